"""The emulator's settings, shared by the WSGI app and the server wrapper."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from media_store.exceptions import InvalidTransformationError
from media_store.grammar import Transformation, parse_definition
from media_store.imagekit_server.names import normalise_folder

# ImageKit's free plan limit for images and raw files (protocol notes, section 2).
DEFAULT_MAX_FILE_SIZE = 25 * 1024 * 1024

# Named transformations (``n-<name>``) the CDN expands; ImageKit's built-in thumbnail
# is a small crop, which the local renderer can produce with w/h alone.
DEFAULT_NAMED_TRANSFORMATIONS: Mapping[str, str] = {
    "ik_ml_thumbnail": "w-100,h-100",
    "media_library_thumbnail": "w-100,h-100",
}


@dataclass(frozen=True)
class Config:
    """Everything the app needs besides its store.

    ``url_endpoint`` is the public CDN base written into ``url`` fields; when None
    it is derived per request from the Host header and ``cdn_path``.

    ``client_upload_folder`` hardens the account against V1 client-side uploads
    (publicKey + token + expire + signature, which sign nothing else): when set,
    such an upload is refused (403) if it targets a folder outside this one or
    would overwrite an existing file. Uploads with the private key or a V2
    token are not affected.

    ``named_transformations`` are the dashboard's named transformations (name to
    chain), which the CDN expands for ``n-<name>``; an invalid one is a ValueError.
    """

    private_key: str
    public_key: str = ""
    cdn_path: str = "/cdn/demo"
    url_endpoint: str | None = None
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    max_output_side: int = 4096
    max_source_pixels: int = 40_000_000
    default_quality: int = 80
    client_upload_folder: str | None = None
    named_transformations: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_NAMED_TRANSFORMATIONS)
    )
    # named_transformations, parsed once.
    named_chains: Mapping[str, Transformation] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.private_key:
            raise ValueError("private_key must be a non-empty string")
        path = "/" + self.cdn_path.strip("/")
        if path == "/" or path.startswith(("/api/", "/v1/", "/__")):
            raise ValueError(
                f"cdn_path {self.cdn_path!r} must be a sub-path such as '/cdn/demo' that does "
                "not overlap the API routes (/api/, /v1/) or the admin routes (/__*)"
            )
        object.__setattr__(self, "cdn_path", path)
        object.__setattr__(self, "named_chains", parse_named(self.named_transformations))
        if self.client_upload_folder is not None:
            folder = normalise_folder(self.client_upload_folder)
            object.__setattr__(self, "client_upload_folder", folder)


def parse_named(definitions: Mapping[str, str]) -> dict[str, Transformation]:
    """Named transformations (name to chain), parsed; ValueError names the bad one."""
    parsed = {}
    for name, chain in definitions.items():
        try:
            parsed[name] = parse_definition(name, chain)
        except InvalidTransformationError as e:
            raise ValueError(f"named transformation {name!r} is invalid: {e}") from e
    return parsed
