"""ImageKit's naming rules: sanitised file and folder names, unique suffixes."""

from __future__ import annotations

import secrets
import string

# ImageKit's demo assets look like ``medium_cafe_B1iTdD0C.jpg``: 8 chars of [A-Za-z0-9_-].
# The exact format is UNVERIFIED (protocol notes, section 2).
SUFFIX_ALPHABET = string.ascii_letters + string.digits + "_-"
SUFFIX_LENGTH = 8


def sanitise_file_name(name: str) -> str:
    """Keep letters and digits (unicode too), ``.`` and ``-``; every other char becomes ``_``."""
    return "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in name)


def sanitise_folder(folder: str | None) -> str:
    """An upload's ``folder`` as ``/a/b/``: letters, digits, ``_`` and ``-`` per segment.

    Other characters, ``.`` included, become ``_``, so ``..`` can never climb.
    """
    segments = [
        "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in segment)
        for segment in (folder or "").split("/")
        if segment
    ]
    return normalise_folder("/".join(segments))


def normalise_folder(path: str | None) -> str:
    """``a//b`` → ``/a/b/``; empty → ``/``. Characters are left alone (a lookup, not a write)."""
    segments = [segment for segment in (path or "").split("/") if segment]
    return "/" + "".join(f"{segment}/" for segment in segments)


def split_extension(name: str) -> tuple[str, str]:
    """``a.tar.gz`` → (``a.tar``, ``.gz``); a leading dot is not an extension."""
    index = name.rfind(".")
    if index <= 0:
        return name, ""
    return name[:index], name[index:]


def unique_suffix() -> str:
    return "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))


def with_unique_suffix(name: str, suffix: str | None = None) -> str:
    """``photo.jpg`` → ``photo_Ab3-x_9Z.jpg``: the suffix goes before the extension."""
    base, extension = split_extension(name)
    return f"{base}_{suffix or unique_suffix()}{extension}"
