"""The shareable PNG card of a post (Pillow): the character's avatar and name, the exchange (or
the caption), and the app's name. Deterministic: the same post gives the same bytes.

    post_card(avatar_png, title, lines, footer) -> PNG bytes
    card_lines(post, author_name) -> (title, lines)   what a post's card shows

`lines` are (speaker, text) pairs; what does not fit is cut with an ellipsis. The text uses
DejaVu Sans where the system has it (wide Unicode coverage), else Pillow's built-in font."""
import io
from functools import lru_cache
from pathlib import Path
from typing import Optional

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 630  # the Open Graph image size
MARGIN = 56
AVATAR = 168
TOP, BOTTOM = "#2b2350", "#141127"
ACCENT = "#c9b8ff"
TEXT = "#f3f0ff"
MUTED = "#a59fc4"
MAX_LINES = 9
FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)
BOLD_FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",)


def post_card(avatar_png: Optional[bytes], title: str, lines: list[tuple[str, str]],
              footer: str) -> bytes:
    card = _gradient()
    draw = ImageDraw.Draw(card)
    if avatar_png:
        _paste_avatar(card, avatar_png)
    text_left = MARGIN + (AVATAR + 36 if avatar_png else 0)
    draw.text((text_left, MARGIN + 8), _fit(draw, title, _font(44, bold=True),
                                            WIDTH - text_left - MARGIN),
              fill=TEXT, font=_font(44, bold=True))
    _draw_exchange(draw, lines, text_left, MARGIN + 84)
    draw.line((MARGIN, HEIGHT - 92, WIDTH - MARGIN, HEIGHT - 92), fill="#3d3566", width=2)
    draw.text((MARGIN, HEIGHT - 70), footer, fill=ACCENT, font=_font(30, bold=True))
    buffer = io.BytesIO()
    card.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def card_lines(post, character_name: Optional[str], author_name: str
               ) -> tuple[str, list[tuple[str, str]]]:
    """The title (the character, else the author) and the lines: the exchange, else the
    caption, with the caption first when both are there."""
    title = character_name or author_name
    lines = [(str(line.get("name") or ""), str(line.get("content") or ""))
             for line in post.excerpt or []]
    if post.body:
        lines.insert(0, ("" if not lines else author_name, post.body))
    if not lines:
        lines = [("", f"Shared by {author_name}")]
    return title, lines


def _draw_exchange(draw: ImageDraw.ImageDraw, lines, left: int, top: int) -> None:
    body, speaker_font = _font(27), _font(27, bold=True)
    width = WIDTH - left - MARGIN
    rows: list[tuple[str, str]] = []  # (speaker or "", text) rows after wrapping
    for speaker, text in lines:
        label = f"{speaker}: " if speaker else ""
        wrapped = _wrap(draw, text, body, width - draw.textlength(label, font=speaker_font))
        rows += [(label if i == 0 else "", row) for i, row in enumerate(wrapped)]
    if len(rows) > MAX_LINES:
        rows = rows[:MAX_LINES]
        rows[-1] = (rows[-1][0], rows[-1][1].rstrip(" .…") + " …")
    y = top
    for label, text in rows:
        indent = draw.textlength(label, font=speaker_font) if label else 0
        if label:
            draw.text((left, y), label, fill=ACCENT, font=speaker_font)
        draw.text((left + indent, y), text, fill=TEXT, font=body)
        y += 38


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: float) -> list[str]:
    rows, current = [], ""
    for word in " ".join(text.split()).split(" "):
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not current:
            current = _fit(draw, candidate, font, width)
        else:
            rows.append(current)
            current = _fit(draw, word, font, width)
    return rows + ([current] if current else [])


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: float) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _paste_avatar(card: Image.Image, avatar_png: bytes) -> None:
    avatar = Image.open(io.BytesIO(avatar_png)).convert("RGBA").resize((AVATAR, AVATAR))
    mask = Image.new("L", (AVATAR, AVATAR), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, AVATAR - 1, AVATAR - 1), fill=255)
    card.paste(avatar, (MARGIN, MARGIN), mask)
    ImageDraw.Draw(card).ellipse((MARGIN - 3, MARGIN - 3, MARGIN + AVATAR + 2,
                                  MARGIN + AVATAR + 2), outline=ACCENT, width=4)


def _gradient() -> Image.Image:
    seed = Image.new("RGBA", (1, 2))
    seed.putpixel((0, 0), _rgb(TOP) + (255,))
    seed.putpixel((0, 1), _rgb(BOTTOM) + (255,))
    return seed.resize((WIDTH, HEIGHT), Image.BILINEAR)


@lru_cache(maxsize=16)
def _font(size: int, bold: bool = False):
    for path in BOLD_FONT_FILES if bold else FONT_FILES:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
