"""Card art drawn by code from the character's avatar: frame, colours and effects by rarity."""
import hashlib
import io
import math

from PIL import Image, ImageDraw, ImageFilter, ImageFont

WIDTH, HEIGHT = 240, 336
FRAMES = {  # outer frame, inner frame, background top, background bottom
    "N": ("#8a8794", "#5d5a66", "#2a2833", "#1b1a21"),
    "R": ("#4f9dff", "#2e6bc4", "#1c2d4d", "#131a2b"),
    "SR": ("#c58bff", "#8c4fe0", "#3a2157", "#1d1230"),
    "SSR": ("#ffd76a", "#e09b2d", "#5a3b12", "#24170a"),
}
SPARKLES = {"N": 0, "R": 0, "SR": 10, "SSR": 24}


def card_art(avatar_png: bytes, rarity: str, title: str) -> bytes:
    """PNG bytes of a card; the same avatar, rarity and title always give the same picture."""
    outer, inner, top, bottom = FRAMES[rarity]
    card = _vertical_gradient(top, bottom)
    if rarity in ("SR", "SSR"):
        card.alpha_composite(_glow(outer))
    avatar = Image.open(io.BytesIO(avatar_png)).convert("RGBA").resize((196, 196))
    mask = Image.new("L", avatar.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, 195, 195), radius=14, fill=255)
    card.paste(avatar, (22, 40), mask)
    draw = ImageDraw.Draw(card)
    draw.rounded_rectangle((4, 4, WIDTH - 5, HEIGHT - 5), radius=16, outline=outer, width=6)
    draw.rounded_rectangle((13, 13, WIDTH - 14, HEIGHT - 14), radius=12, outline=inner, width=2)
    draw.rounded_rectangle((21, 39, 218, 236), radius=14, outline=outer, width=2)
    _sparkles(draw, rarity, title)
    font = ImageFont.load_default(size=15)
    name, _, subtitle = title.partition(" · ")
    draw.text((WIDTH // 2, 254), name, fill="#f4f0ff", font=font, anchor="ma")
    draw.text((WIDTH // 2, 276), subtitle, fill=outer, font=ImageFont.load_default(size=13), anchor="ma")
    stars = 1 + ("N", "R", "SR", "SSR").index(rarity)
    for i in range(stars):
        _star(draw, WIDTH // 2 - 28 - (stars - 1 - i) * 14, 308, 6, outer)
    draw.text((WIDTH // 2 - 14, 300), rarity, fill=outer, font=ImageFont.load_default(size=14))
    buffer = io.BytesIO()
    card.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def _vertical_gradient(top: str, bottom: str) -> Image.Image:
    seed = Image.new("RGBA", (1, 2))
    seed.putpixel((0, 0), _rgb(top) + (255,))
    seed.putpixel((0, 1), _rgb(bottom) + (255,))
    return seed.resize((WIDTH, HEIGHT), Image.BILINEAR)


def _glow(colour: str) -> Image.Image:
    layer = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    ImageDraw.Draw(layer).ellipse((10, 20, WIDTH - 10, 260), fill=_rgb(colour) + (90,))
    return layer.filter(ImageFilter.GaussianBlur(24))


def _sparkles(draw: ImageDraw.ImageDraw, rarity: str, title: str) -> None:
    digest = hashlib.sha256(title.encode("utf-8")).digest()
    colour = FRAMES[rarity][0]
    for i in range(SPARKLES[rarity]):
        x = 14 + digest[i % 32] * (WIDTH - 28) // 255
        y = 14 + digest[(i * 7 + 3) % 32] * (HEIGHT - 28) // 255
        r = 2 + (digest[(i * 5 + 1) % 32] % 4)
        points = [(x + r * math.cos(k * math.pi / 4) * (1 if k % 2 == 0 else 0.35),
                   y + r * math.sin(k * math.pi / 4) * (1 if k % 2 == 0 else 0.35))
                  for k in range(8)]
        draw.polygon(points, fill=colour)


def _star(draw: ImageDraw.ImageDraw, x: float, y: float, r: float, colour: str) -> None:
    points = [(x + (r if k % 2 == 0 else r * 0.45) * math.sin(k * math.pi / 5),
               y - (r if k % 2 == 0 else r * 0.45) * math.cos(k * math.pi / 5)) for k in range(10)]
    draw.polygon(points, fill=colour)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))
