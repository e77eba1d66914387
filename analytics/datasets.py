"""The event log's two data sets: 'live', what real users did, and 'demo', the simulated
population of analytics.simulate. Every figure and the export read exactly one of them."""
from core.errors import KindredError

LIVE, DEMO = "live", "demo"
DATASETS = (LIVE, DEMO)


def check_dataset(name: str) -> str:
    if name not in DATASETS:
        raise KindredError("bad_request", f"'dataset' is one of {', '.join(DATASETS)}.")
    return name
