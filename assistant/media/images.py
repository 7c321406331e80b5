"""Images for the model: decoded with Pillow, turned upright, scaled into a pixel budget, JPEG."""

from __future__ import annotations

import io
import math
import warnings
from typing import TYPE_CHECKING

from assistant.media.errors import Unreadable

if TYPE_CHECKING:
    from PIL.Image import Image as PilImage

JPEG_QUALITY = 85
# Larger claims than this are refused before decoding: a small file can announce a huge image.
MAX_SOURCE_PIXELS = 50_000_000


def fit(width: int, height: int, max_pixels: int) -> tuple[int, int]:
    """The largest size with the same proportions and at most `max_pixels` pixels (never larger)."""
    if width * height <= max_pixels:
        return width, height
    scale = math.sqrt(max_pixels / (width * height))
    new_width, new_height = max(1, int(width * scale)), max(1, int(height * scale))
    # A side cut to one pixel can push a very long, thin image back over the budget.
    if new_width * new_height > max_pixels:
        if new_width > new_height:
            new_width = max(1, max_pixels // new_height)
        else:
            new_height = max(1, max_pixels // new_width)
    return new_width, new_height


def prepare_image(data: bytes, max_pixels: int) -> bytes:
    """`data` as an upright RGB JPEG within `max_pixels`. Blocking (run it in a thread).

    Raises Unreadable for bytes Pillow cannot decode or an image too large to open safely."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as opened:
                if opened.width * opened.height > MAX_SOURCE_PIXELS:
                    raise Unreadable(f"an image of {opened.width}x{opened.height} pixels is too large")
                size = fit(opened.width, opened.height, max_pixels)
                if opened.format == "JPEG":
                    opened.draft("RGB", size)  # decode at a reduced scale where JPEG allows
                image = ImageOps.exif_transpose(opened)
                return _encode(_flatten(image), max_pixels)
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            raise Unreadable(f"Pillow: {type(exc).__name__}: {exc}") from exc
        except Image.DecompressionBombWarning as exc:
            raise Unreadable("the image is too large to open safely") from exc


def _flatten(image: PilImage) -> PilImage:
    """RGB on white: transparency (stickers, PNGs) becomes the background JPEG cannot hold."""
    from PIL import Image

    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _encode(image: PilImage, max_pixels: int) -> bytes:
    from PIL import Image

    size = fit(image.width, image.height, max_pixels)
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
