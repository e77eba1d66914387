"""Avatar images: the one pipeline every stored avatar goes through, whether it came inside a card
file (service.import_card) or as an upload (uploads.set_avatar). No Flask here.

    clean_image(data, formats=None, min_side=1) -> PNG bytes, or raises ImageRefused

Only the header is read before the size check, so an image of more than MAX_PIXELS pixels (a
decompression bomb among them) is refused before a single pixel is decoded; Pillow's own bomb
warning and error count as the same refusal. A kept image is turned by its EXIF orientation,
scaled to at most MAX_SIDE pixels a side and re-encoded as a plain PNG: no text chunks, EXIF or
ICC profile survive. ImageRefused is a KindredError (400) whose code says why:

    bad_image          empty, truncated, damaged, or not an image at all
    unsupported_image  a format the caller did not accept (`formats`)
    image_too_large    more than MAX_PIXELS pixels
    image_too_small    less than `min_side` pixels a side

The card import answers every one of them as CardError "bad_image" (docs/api.md); the avatar
upload answers them as they are.
"""
import io
import warnings
from typing import Collection, Optional

from core.errors import KindredError

MAX_PIXELS = 40_000_000  # decoded width * height
MAX_SIDE = 1024  # the stored avatar, at most this many pixels a side


class ImageRefused(KindredError):
    """An image the pipeline will not store; `code` says why (see the module docstring)."""


def clean_image(data: bytes, formats: Optional[Collection[str]] = None,
                min_side: int = 1) -> bytes:
    """`data` as a plain PNG of at most MAX_SIDE pixels a side. `formats` (Pillow's names, e.g.
    {"PNG", "JPEG", "WEBP"}) limits what is accepted; None takes any image Pillow reads."""
    from PIL import Image, ImageOps

    if not data:
        raise ImageRefused("bad_image", "The image is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if formats is not None and img.format not in formats:
                    raise ImageRefused("unsupported_image",
                                       f"{img.format or 'These'} images are not accepted; use "
                                       f"{_listed(formats)}.")
                _check_size(img.width, img.height, min_side)
                img.load()
                img = ImageOps.exif_transpose(img)
                mode = "RGBA" if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info \
                    else "RGB"
                pixels = img.convert(mode)
    except ImageRefused:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageRefused("image_too_large", f"The image has too many pixels; at most "
                                              f"{MAX_PIXELS:,} are accepted.") from None
    except Exception:  # Pillow raises many types (OSError, SyntaxError, ValueError...)
        raise ImageRefused("bad_image", "The image could not be decoded; it is damaged or not "
                                        "an image.") from None
    pixels.thumbnail((MAX_SIDE, MAX_SIDE))
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())  # no metadata carried
    out = io.BytesIO()
    clean.save(out, "PNG")
    return out.getvalue()


def _check_size(width: int, height: int, min_side: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageRefused("image_too_large", f"The image is {width}x{height} pixels; at most "
                                              f"{MAX_PIXELS:,} pixels are accepted.")
    if min(width, height) < min_side:
        raise ImageRefused("image_too_small", f"The image is {width}x{height} pixels; at least "
                                              f"{min_side} pixels a side are needed.")


def _listed(formats: Collection[str]) -> str:
    names = [{"WEBP": "WebP"}.get(f, f) for f in sorted(formats)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
