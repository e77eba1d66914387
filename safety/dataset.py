"""The labelled moderation data set, written by us: safety/data/moderation.jsonl.

One JSON object per line: `text`, `labels` (the categories it breaks; [] for allowed text),
`kind` (`harmful`, `roleplay` for allowed role-play that looks dangerous, `chat` for ordinary
allowed text), `surface` (where such a text would be posted) and `split`.

The split is fixed in the file and was assigned per label: the texts of one label sorted by the
SHA-256 of their text, every fifth from the fourth on `dev`, from the fifth on `test`, the rest
`train` (about 60/20/20). New lines follow the same rule (`assign_split`). The test split is
read only by the benchmark (bench/moderation.py); training and tuning read `train` and `dev`."""
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "moderation.jsonl"
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Example:
    text: str
    labels: tuple[str, ...]
    kind: str
    surface: str
    split: str


def load(splits: tuple[str, ...], path: Path = DATA_FILE) -> list[Example]:
    """The examples of the given splits, in file order. Asking for a split outside SPLITS is an
    error, so a typo can never read the whole file."""
    unknown = set(splits) - set(SPLITS)
    if unknown:
        raise ValueError(f"unknown split(s) {sorted(unknown)}; splits are {SPLITS}")
    examples = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["split"] in splits:
                examples.append(Example(row["text"], tuple(row["labels"]), row["kind"],
                                        row["surface"], row["split"]))
    return examples


def assign_split(position: int) -> str:
    """The split of the `position`-th text (0-based) of one label, sorted by text_hash."""
    return ("train", "train", "train", "dev", "test")[position % 5]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
