"""Direct (browser) uploads to ImageKit's upload API V2: the token and its form fields.

Nothing here calls ImageKit: the server signs, the browser posts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.core.exceptions import ImproperlyConfigured

try:
    import jwt
except ImportError as e:  # pragma: no cover - a hard dependency
    raise ImproperlyConfigured(
        "Direct uploads to ImageKit need PyJWT: pip install 'PyJWT>=2.8,<3'"
    ) from e

# The browser posts to the V2 endpoint with a JWT the server signed; ImageKit refuses
# the upload unless the form carries exactly the fields the token's payload lists.
# VERIFIED, with sources:
# - [DOCS] imagekitio/docs-keep-a-changelog, api-reference/upload-file-api/
#   secure-client-side-file-upload.md: the token is a JWT; header alg HS256, typ JWT,
#   kid = the account's public key; signed with HMAC-SHA256 and the private key; the
#   payload holds every upload parameter except `file` and `token`, values as strings
#   ("useUniqueFileName": "false"); the request must send the same set of parameters
#   with the same values or it fails; the example signs with jsonwebtoken's
#   `expiresIn` (which writes `iat` and `exp = iat + expiresIn`), "less than one hour";
#   a token that was used before is refused, even if that request failed.
# - [SPEC] imagekit-developer/sdk-generation, openapi/v1.0.0.yaml, POST
#   /api/v2/files/upload on https://upload.imagekit.io: multipart/form-data; 400s
#   "Your request is missing token parameter.", "... contains expired token.",
#   "... has invalid token.", "... contains invalid payload. It does not match with
#   the payload used to generate token.", "... failed 'checks' validation.".
# - [SDK] imagekitio 5.11, resources/beta/v2/files.py: the same path on base_url
#   when base_url is overridden (the local server), else the upload host.
# - [DOCS] imagekit.io/docs upload-file#upload-api-checks: `"file.size"` takes
#   =, <, <=, >, >= with a number of bytes or "1mb"; `"file.mime"` takes IN [...];
#   terms join with AND.
# UNVERIFIED: whether ImageKit requires `iat` (jsonwebtoken always writes it, so do
# we); its clock-skew tolerance; whether a `publicKey` form field is tolerated (we
# tell browsers to send none: the kid carries it); whether "mb" in checks means
# 10^6 or 2^20 bytes (we write plain bytes).
UPLOAD_API_V2_URL = "https://upload.imagekit.io/api/v2/files/upload"
UPLOAD_API_V2_PATH = "/api/v2/files/upload"
# Extension of the server-chosen name → the MIME type the upload's checks allow.
DIRECT_UPLOAD_TYPES: Mapping[str, str] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
}
_EXTENSION_ALIASES = {"jpeg": "jpg", "jpe": "jpg", "jfif": "jpg"}
_TYPE_ALIASES = {"image/jpg": "jpg", "image/pjpeg": "jpg"}


def direct_upload_extension(file_name: str = "", content_type: str = "") -> str:
    """The extension of a direct upload's server-chosen name.

    Taken from the client's file name, else its content type; ``jpg`` when it
    gives neither. Raises ValueError for anything outside DIRECT_UPLOAD_TYPES.
    """
    suffix = PurePosixPath(file_name.replace("\\", "/")).suffix.lower().lstrip(".")
    if suffix:
        extension = _EXTENSION_ALIASES.get(suffix, suffix)
    elif content_type:
        mime = content_type.split(";", 1)[0].strip().lower()
        by_type = {value: key for key, value in DIRECT_UPLOAD_TYPES.items()}
        extension = _TYPE_ALIASES.get(mime) or by_type.get(mime, mime)
    else:
        return "jpg"
    if extension not in DIRECT_UPLOAD_TYPES:
        raise ValueError(
            f"{(suffix or content_type)!r} is not an accepted image type; upload JPEG, PNG, "
            "WebP, GIF or AVIF."
        )
    return extension


def sign_upload_token(
    fields: Mapping[str, str],
    *,
    private_key: str,
    public_key: str,
    issued_at: int,
    expires_at: int,
) -> str:
    """The upload API V2 token binding ``fields`` (see the notes above)."""
    # A short test key's PyJWT warning is hidden at start-up (media_store.jwt_keys).
    return jwt.encode(
        {**fields, "iat": issued_at, "exp": expires_at},
        private_key,
        algorithm="HS256",
        headers={"kid": public_key, "typ": "JWT"},
    )


@dataclass(frozen=True, slots=True)
class DirectUploadAuth:
    """What a browser needs for one upload straight to ImageKit's upload API V2.

    ``fields`` are the form fields the token binds, exactly as they must be sent;
    ``form_fields`` adds the token: the browser posts those text parts and the
    file (part ``file``) to ``upload_url``, and nothing else.
    """

    upload_url: str
    token: str
    expire: int
    public_key: str
    url_endpoint: str
    fields: Mapping[str, str]

    @property
    def form_fields(self) -> dict[str, str]:
        return {**self.fields, "token": self.token}


def make_upload_auth(
    *,
    folder: str,
    max_bytes: int,
    file_name: str,
    content_type: str,
    expires_in: int,
    private_key: str,
    public_key: str,
    upload_url: str,
    url_endpoint: str,
) -> DirectUploadAuth:
    """Sign the fields of one create-only upload of at most ``max_bytes`` into ``folder``.

    The name is a new UUID (``file_name``/``content_type`` only pick the extension).
    Raises ValueError for a type outside DIRECT_UPLOAD_TYPES or a size below 1.
    """
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be a positive number of bytes, got {max_bytes!r}")
    extension = direct_upload_extension(file_name, content_type)
    types = ", ".join(f'"{mime}"' for mime in dict.fromkeys(DIRECT_UPLOAD_TYPES.values()))
    fields = {
        "fileName": f"{uuid.uuid4().hex}.{extension}",
        "folder": folder,
        "useUniqueFileName": "false",
        "overwriteFile": "false",
        "checks": f'"file.size" <= {int(max_bytes)} AND "file.mime" IN [{types}]',
    }
    issued_at = int(time.time())
    expires_at = issued_at + expires_in
    token = sign_upload_token(
        fields,
        private_key=private_key,
        public_key=public_key,
        issued_at=issued_at,
        expires_at=expires_at,
    )
    return DirectUploadAuth(
        upload_url=upload_url,
        token=token,
        expire=expires_at,
        public_key=public_key,
        url_endpoint=url_endpoint,
        fields=fields,
    )
