"""Analytics: the append-only event log fed by the domain events, and what is computed from it
(cohort retention) and exported from it (events.jsonl). docs/analytics.md holds every event name's
schema and the definitions; this package imports no Flask outside `api.py`."""
