"""What an uploaded file is: MIME type, image or not, dimensions, alpha.

Pillow's ``Image.open`` reads only the header, so probing a large upload costs
a few kilobytes of I/O and no decoding.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})
_GENERIC = "application/octet-stream"
_UNREADABLE_IMAGES = frozenset({"image/svg+xml", "image/heic", "image/heif"})
# ImageKit identifies binary files by their magic number and text files by their
# extension [DOCS: docs-keep-a-changelog, api-reference/upload-file-api/README.md].
# Pillow knows the images; these are common binaries that get named like images.
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\x7fELF", "application/x-executable"),
    (b"MZ", "application/x-msdownload"),
)
_HEAD = 4096


@dataclass(frozen=True, slots=True)
class Probe:
    mime: str
    file_type: str  # "image" or "non-image"
    width: int | None = None
    height: int | None = None
    has_alpha: bool = False


def probe(path: Path, name: str, declared_mime: str | None = None) -> Probe:
    """Identify the file at ``path``; ``name`` and ``declared_mime`` help for non-images."""
    try:
        # Only the header is read. Past Pillow's warning threshold it warns as it would
        # anywhere (catch_warnings here swapped the process's filters from request
        # threads); past twice that it refuses, and the file is an image of unknown size.
        with Image.open(path) as image:
            mime = image.get_format_mimetype() or _guess(name, declared_mime)
            alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
            return Probe(mime, "image", image.width, image.height, alpha)
    except Image.DecompressionBombError:
        return Probe(_guess(name, declared_mime), "image")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        # SyntaxError: some Pillow plugins raise it for a malformed header.
        pass
    with path.open("rb") as handle:
        head = handle.read(_HEAD)
    for magic, sniffed in _MAGIC:
        if head.startswith(magic):
            return Probe(sniffed, "non-image")
    mime = _guess(name, declared_mime)
    if b"\x00" in head and mime.startswith("image/") and mime not in _UNREADABLE_IMAGES:
        # Binary bytes Pillow cannot read are not the image their name claims.
        return Probe(_GENERIC, "non-image")
    # Pillow cannot read these, but ImageKit treats them as images. Anything else
    # Pillow rejects (a text file named x.jpg) is not an image.
    return Probe(mime, "image" if mime in _UNREADABLE_IMAGES else "non-image")


def _guess(name: str, declared_mime: str | None) -> str:
    guessed, _encoding = mimetypes.guess_type(name, strict=False)
    if guessed:
        return guessed
    if declared_mime and declared_mime != _GENERIC:
        return declared_mime
    return _GENERIC
