"""Private details in a text: e-mail addresses, phone numbers, street addresses, card and social
security numbers. `mask` hides them ("[email hidden]") and says what it hid."""
import re
from dataclasses import dataclass

_STREET_SUFFIX = (r"(?:street|st|road|rd|avenue|ave|drive|dr|lane|ln|way|court|ct|boulevard|"
                  r"blvd|terrace|place|pl|close|crescent|parkway|circle|highway|hwy)")
DETECTORS = (
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.IGNORECASE)),
    ("card", re.compile(r"\b(?:\d{4}[ -]?){3}\d{1,4}\b")),
    ("ssn", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("phone", re.compile(
        r"(?<![\w/])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,8}){1,4}"
        r"(?![\w/])|(?<![\w/])\d{10,15}(?![\w/])")),  # not inside a word: user_5093812746
    ("address", re.compile(
        rf"\b\d{{1,5}}\s+(?:[A-Z][a-z]+\s+){{1,3}}{_STREET_SUFFIX}\b"
        rf"|\b\d{{1,5}}\s+(?:rue|via|calle|avenida)\s+(?:[\w']+\s+){{0,3}}[\w']+",
        re.IGNORECASE)),
)
MIN_PHONE_DIGITS = 7
LABELS = {"email": "[email hidden]", "phone": "[phone hidden]", "address": "[address hidden]",
          "card": "[card number hidden]", "ssn": "[id number hidden]"}


@dataclass(frozen=True)
class Masked:
    text: str
    kinds: tuple[str, ...]  # what was hidden, in order of first appearance, each once


def mask(text: str) -> Masked:
    spans = []
    for kind, regex in DETECTORS:
        for match in regex.finditer(text):
            if kind == "phone" and not _looks_like_phone(match.group()):
                continue
            if kind == "address" and not _has_word_after_number(match.group()):
                continue
            spans.append((match.start(), match.end(), kind))
    spans = _without_overlaps(spans)
    if not spans:
        return Masked(text, ())
    out, last, kinds = [], 0, []
    for start, end, kind in spans:
        out += [text[last:start], LABELS[kind]]
        last = end
        if kind not in kinds:
            kinds.append(kind)
    out.append(text[last:])
    return Masked("".join(out), tuple(kinds))


def _looks_like_phone(value: str) -> bool:
    digits = sum(ch.isdigit() for ch in value)
    return MIN_PHONE_DIGITS <= digits <= 15


def _has_word_after_number(value: str) -> bool:
    return bool(re.search(r"[A-Za-z]", value))


def _without_overlaps(spans):
    """Earlier detectors win (an e-mail's digits are not a phone number), then the earliest."""
    kept = []
    for span in spans:
        if all(span[1] <= k[0] or span[0] >= k[1] for k in kept):
            kept.append(span)
    return sorted(kept)
