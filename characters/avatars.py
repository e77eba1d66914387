"""Deterministic, code-drawn PNG avatars for characters (gradient, emblem, initials)."""

from __future__ import annotations

import colorsys
import hashlib
import io
import math

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

EMBLEMS = ("circle", "star", "moon", "wave", "leaf", "gear", "flame", "book")

_SUPERSAMPLE = 2
_EMBLEM_FILL = (255, 255, 255, 60)
_EMBLEM_LINE = (255, 255, 255, 95)


def generate_avatar(
    name: str,
    palette: tuple[str, str] | None = None,
    emblem: str | None = None,
    size: int = 256,
) -> bytes:
    """Return PNG bytes of a square avatar; same inputs always give identical bytes."""
    default_palette, default_emblem = default_style(name)
    palette = palette or default_palette
    emblem = emblem if emblem in EMBLEMS else default_emblem

    image = _gradient(size, palette)
    image.alpha_composite(_emblem_layer(size, emblem))
    _draw_initials(image, initials(name))

    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def default_style(name: str) -> tuple[tuple[str, str], str]:
    """Derive a stable (palette, emblem) pair from a sha256 of the name."""
    digest = hashlib.sha256(name.strip().lower().encode("utf-8")).digest()
    hue = digest[0] / 255
    shift = (40 + digest[1] % 50) / 360 * (1 if digest[2] % 2 else -1)
    first = _hls_hex(hue, 0.30 + digest[3] % 10 / 100, 0.55 + digest[4] % 30 / 100)
    second = _hls_hex((hue + shift) % 1.0, 0.45 + digest[5] % 10 / 100, 0.60 + digest[6] % 30 / 100)
    return (first, second), EMBLEMS[digest[7] % len(EMBLEMS)]


def initials(name: str) -> str:
    """First letter of up to two words, uppercased; '?' if there is nothing usable."""
    letters = []
    for word in name.split():
        letter = next((ch for ch in word if ch.isalnum()), None)
        if letter:
            letters.append(letter.upper())
        if len(letters) == 2:
            break
    return "".join(letters) or "?"


# --- helpers -------------------------------------------------------------


def _hls_hex(hue: float, lightness: float, saturation: float) -> str:
    r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
    return "#{:02x}{:02x}{:02x}".format(round(r * 255), round(g * 255), round(b * 255))


def _gradient(size: int, palette: tuple[str, str]) -> Image.Image:
    """Diagonal gradient from palette[0] (top-left) to palette[1] (bottom-right)."""
    vertical = Image.linear_gradient("L").resize((size, size))
    horizontal = vertical.transpose(Image.Transpose.ROTATE_90)
    mask = ImageChops.add(vertical, horizontal, scale=2.0)
    start = Image.new("RGBA", (size, size), palette[0])
    end = Image.new("RGBA", (size, size), palette[1])
    return Image.composite(end, start, mask)


def _emblem_layer(size: int, emblem: str) -> Image.Image:
    """Semi-transparent white motif, drawn supersampled then scaled down for smooth edges."""
    big = size * _SUPERSAMPLE
    layer = Image.new("RGBA", (big, big), (255, 255, 255, 0))
    draw = ImageDraw.Draw(layer)
    _DRAWERS[emblem](draw, big)
    return layer.resize((size, size), Image.Resampling.LANCZOS)


def _draw_initials(image: Image.Image, text: str) -> None:
    size = image.width
    font = ImageFont.load_default(size=max(8, int(size * (0.42 if len(text) > 1 else 0.5))))
    centre = (size / 2, size / 2)
    offset = max(1, size // 64)

    shadow = Image.new("RGBA", image.size, (0, 0, 0, 0))
    ImageDraw.Draw(shadow).text(
        (centre[0] + offset, centre[1] + offset), text, font=font, anchor="mm", fill=(0, 0, 0, 110)
    )
    image.alpha_composite(shadow.filter(ImageFilter.GaussianBlur(max(1, size // 80))))
    ImageDraw.Draw(image).text(centre, text, font=font, anchor="mm", fill=(255, 255, 255, 245))


def _circle(draw: ImageDraw.ImageDraw, s: int) -> None:
    cx, cy = s * 0.5, s * 0.5
    for i, r in enumerate((0.44, 0.34, 0.24)):
        draw.ellipse((cx - s * r, cy - s * r, cx + s * r, cy + s * r), outline=_EMBLEM_LINE, width=int(s * (0.03 - i * 0.006)))


def _star(draw: ImageDraw.ImageDraw, s: int) -> None:
    cx, cy, outer, inner = s * 0.5, s * 0.53, s * 0.44, s * 0.18
    points = [
        (cx + (outer if i % 2 == 0 else inner) * math.sin(i * math.pi / 5),
         cy - (outer if i % 2 == 0 else inner) * math.cos(i * math.pi / 5))
        for i in range(10)
    ]
    draw.polygon(points, fill=_EMBLEM_FILL)


def _moon(draw: ImageDraw.ImageDraw, s: int) -> None:
    r = s * 0.40
    draw.ellipse((s * 0.5 - r, s * 0.5 - r, s * 0.5 + r, s * 0.5 + r), fill=_EMBLEM_FILL)
    cut_x, cut_y = s * 0.66, s * 0.40
    draw.ellipse((cut_x - r, cut_y - r, cut_x + r, cut_y + r), fill=(255, 255, 255, 0))
    for x, y, d in ((0.78, 0.74, 0.022), (0.86, 0.60, 0.014), (0.70, 0.86, 0.012)):
        draw.ellipse((s * (x - d), s * (y - d), s * (x + d), s * (y + d)), fill=_EMBLEM_LINE)


def _wave(draw: ImageDraw.ImageDraw, s: int) -> None:
    for band, base in enumerate((0.62, 0.74, 0.86)):
        top = [(x, s * base + s * 0.045 * math.sin(x / s * 4 * math.pi + band * 1.3)) for x in range(0, s + 1, max(1, s // 64))]
        draw.polygon(top + [(s, s), (0, s)], fill=(255, 255, 255, 38))


def _leaf(draw: ImageDraw.ImageDraw, s: int) -> None:
    steps = 40
    tip, base = (s * 0.80, s * 0.16), (s * 0.20, s * 0.84)
    length = math.dist(tip, base)
    angle = math.atan2(tip[1] - base[1], tip[0] - base[0])
    nx, ny = -math.sin(angle), math.cos(angle)
    side_a, side_b = [], []
    for i in range(steps + 1):
        t = i / steps
        px, py = base[0] + (tip[0] - base[0]) * t, base[1] + (tip[1] - base[1]) * t
        w = length * 0.24 * math.sin(math.pi * t) ** 0.9
        side_a.append((px + nx * w, py + ny * w))
        side_b.append((px - nx * w, py - ny * w))
    draw.polygon(side_a + side_b[::-1], fill=_EMBLEM_FILL)
    draw.line([base, tip], fill=_EMBLEM_LINE, width=int(s * 0.012))


def _gear(draw: ImageDraw.ImageDraw, s: int) -> None:
    cx, cy, outer, inner, teeth = s * 0.5, s * 0.5, s * 0.44, s * 0.36, 10
    points = []
    for i in range(teeth * 4):
        radius = outer if i % 4 in (1, 2) else inner
        a = i * 2 * math.pi / (teeth * 4)
        points.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
    draw.polygon(points, fill=_EMBLEM_FILL)
    hole = s * 0.16
    draw.ellipse((cx - hole, cy - hole, cx + hole, cy + hole), fill=(255, 255, 255, 0))


def _flame(draw: ImageDraw.ImageDraw, s: int) -> None:
    def tongue(height: float, width: float, lean: float) -> list[tuple[float, float]]:
        """Teardrop with a round base and a pointed tip that curls sideways by `lean`."""
        right, left = [], []
        for i in range(41):
            r = i / 40  # 0 at the base, 1 at the tip
            x = s * (0.5 + lean * r**2)
            y = s * (0.92 - height * r)
            half = s * width * 2.2 * math.sqrt(r) * (1 - r) ** 1.2
            right.append((x + half, y))
            left.append((x - half, y))
        return right + left[::-1]

    for height, width, lean in ((0.50, 0.17, -0.26), (0.56, 0.17, 0.26), (0.84, 0.24, 0.04)):
        draw.polygon(tongue(height, width, lean), fill=_EMBLEM_FILL)
    draw.polygon(tongue(0.42, 0.12, -0.05), fill=(255, 255, 255, 40))


def _book(draw: ImageDraw.ImageDraw, s: int) -> None:
    spine_top, spine_bottom = (s * 0.5, s * 0.34), (s * 0.5, s * 0.82)
    for side in (-1, 1):
        outer_x = s * 0.5 + side * s * 0.40
        draw.polygon(
            [spine_top, (outer_x, s * 0.26), (outer_x, s * 0.74), spine_bottom],
            fill=_EMBLEM_FILL,
        )
        for row in range(4):
            y = 0.36 + row * 0.085
            draw.line(
                [(s * 0.5 + side * s * 0.07, s * (y + 0.07)), (s * 0.5 + side * s * 0.33, s * y)],
                fill=_EMBLEM_LINE,
                width=max(1, int(s * 0.008)),
            )


_DRAWERS = {
    "circle": _circle,
    "star": _star,
    "moon": _moon,
    "wave": _wave,
    "leaf": _leaf,
    "gear": _gear,
    "flame": _flame,
    "book": _book,
}
