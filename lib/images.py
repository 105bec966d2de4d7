"""Input images (first/last frame, references): checked by content, never by file name, and turned
into data URIs, which Runware accepts wherever it takes an image."""
from __future__ import annotations

import base64
import binascii
import io

from PIL import Image, UnidentifiedImageError

# Formats Runware takes for frame images, by the magic bytes that open the file.
_MIME_BY_FORMAT = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


class ImageRejected(ValueError):
    """The bytes are not an image Runware takes; the message is meant for the user."""


def sniff_format(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    return None


def _size(n: int) -> str:
    """Bytes in the units people know: "1.5 MB", "10 MB", and KB below a tenth of a MB."""
    return f"{round(n / 1e6, 1):g} MB" if n >= 100_000 else f"{max(1, round(n / 1e3))} KB"


def check_image(data: bytes, max_bytes: int) -> str:
    """Return the image's MIME type, or raise ImageRejected saying what is wrong."""
    if not data:
        raise ImageRejected("The file is empty.")
    if len(data) > max_bytes:
        raise ImageRejected(f"The image is {_size(len(data))}; the limit is {_size(max_bytes)}.")
    kind = sniff_format(data)
    if kind == "GIF":
        raise ImageRejected("GIF images are not accepted; use PNG, JPEG or WEBP.")
    if kind is None:
        raise ImageRejected("This file is not a PNG, JPEG or WEBP image (checked by its content).")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != kind:
                raise ImageRejected("The image's content does not match its format.")
            if getattr(img, "is_animated", False):
                raise ImageRejected("Animated images are not accepted; use a still PNG, JPEG or WEBP.")
            img.load()  # decodes every pixel, so a truncated or corrupt file is caught here
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImageRejected("The image is corrupt or cut short and cannot be read.") from None
    return _MIME_BY_FORMAT[kind]


def to_data_uri(data: bytes, max_bytes: int) -> str:
    mime = check_image(data, max_bytes)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def decode_image_ref(ref: str) -> bytes | None:
    """Bytes of an inline image (data URI or bare base64); None for URLs and image UUIDs."""
    if not isinstance(ref, str):
        return None
    payload = ref.split(",", 1)[1] if ref.startswith("data:") and "," in ref else ref
    if ref.startswith(("http://", "https://")) or len(payload) < 16:
        return None
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None


def decode_media_ref(ref) -> bytes | None:
    """Bytes of inline media (data URI or bare base64) of any type; None for URLs and UUIDs."""
    return decode_image_ref(ref)


def first_video_frame(data: bytes) -> bytes | None:
    """The first frame of a video as PNG bytes, or None when the bytes are not a video PyAV can read."""
    import av  # only the simulator needs it; the studio never decodes videos

    try:
        with av.open(io.BytesIO(data)) as container:
            for frame in container.decode(video=0):
                out = io.BytesIO()
                frame.to_image().save(out, format="PNG")
                return out.getvalue()
    except (av.FFmpegError, ValueError, IndexError, OSError):
        return None
    return None
