"""The project's docs/*.md split for retrieval: one section per heading (headings inside code
fences are code), each section cut into passages short enough for MiniLM to read whole (it reads
256 word pieces), every passage led by its page title and heading path so it is findable by
what the page is about."""
import re
from dataclasses import dataclass
from pathlib import Path

HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
PASSAGE_CHARS = 700  # about 170 word pieces of prose, with room for the heading line


@dataclass(frozen=True)
class Passage:
    page: str  # the file's stem: "moderation-people"
    title: str  # the page's first heading
    heading: str  # the section's own heading ("" before the first one)
    anchor: str  # the heading's slug, for /help/docs/<page>#<anchor>
    text: str  # the passage as embedded: "Title > Heading\n" + body


def passages(path: Path) -> list[Passage]:
    page = path.stem
    lines = path.read_text(encoding="utf-8").splitlines()
    title, found = page, []
    trail: list[str] = []
    heading, body, fenced = "", [], False
    for line in lines:
        if FENCE.match(line):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if match is None:
            body.append(line)
            continue
        found += _cut(page, title, trail, heading, body)
        level, heading, body = len(match.group(1)), _plain(match.group(2)), []
        if level == 1 and title == page:
            title = heading
        trail = trail[:level - 1] + [heading]
    return found + _cut(page, title, trail, heading, body)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _cut(page: str, title: str, trail: list[str], heading: str, body: list[str]
         ) -> list[Passage]:
    paragraphs = [p.strip() for p in "\n".join(body).split("\n\n") if p.strip()]
    if not paragraphs:
        return []
    lead = " > ".join(dict.fromkeys([title, *trail]))
    chunks, current = [], ""
    for paragraph in paragraphs:
        for piece in _pieces(paragraph):
            if current and len(current) + len(piece) > PASSAGE_CHARS:
                chunks.append(current)
                current = ""
            current = f"{current}\n{piece}" if current else piece
    chunks.append(current)
    return [Passage(page, title, heading, slug(heading), f"{lead}\n{chunk}") for chunk in chunks]


def _pieces(paragraph: str) -> list[str]:
    """A paragraph longer than a passage, cut at line ends (tables, lists) or else anywhere."""
    if len(paragraph) <= PASSAGE_CHARS:
        return [paragraph]
    pieces, current = [], ""
    for line in paragraph.splitlines():
        while len(line) > PASSAGE_CHARS:
            pieces.append(line[:PASSAGE_CHARS])
            line = line[PASSAGE_CHARS:]
        if current and len(current) + len(line) > PASSAGE_CHARS:
            pieces.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    return pieces + [current] if current else pieces


def _plain(heading: str) -> str:
    return re.sub(r"[`*]", "", heading).strip()
