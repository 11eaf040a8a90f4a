"""Upload API V1 and V2: multipart in, file stored, ImageKit's JSON out.

``POST /api/v1/files/upload`` takes the private key (Basic auth) or client-side V1
parameters (publicKey, token, expire, signature); ``POST /api/v2/files/upload``
takes the private key or a JWT binding every form field (auth.UploadTokenAuth).
Both then run the same pipeline: receive, probe, run ``checks``, store.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import json
import shutil
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException

from media_store.imagekit_server import errors
from media_store.imagekit_server.checks import (
    CheckSyntaxError,
    UnsupportedCheckError,
    UploadedFacts,
    parse_checks,
    passes,
)
from media_store.imagekit_server.errors import ApiError
from media_store.imagekit_server.names import normalise_folder, sanitise_file_name, sanitise_folder
from media_store.imagekit_server.probe import probe
from media_store.imagekit_server.serialize import upload_response
from media_store.imagekit_server.store import NewFile, PathTakenError, UploadPolicy

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from media_store.imagekit_server.app import ImageKitApp

# UNVERIFIED: ImageKit's wording for a missing fileName is not in the protocol notes.
MISSING_FILE_NAME = "Missing fileName parameter for upload."
URL_UPLOAD_UNSUPPORTED = (
    "Your request contains invalid file parameter. The local ImageKit server cannot fetch "
    "URLs; send the file's bytes (or base64) instead."
)
INVALID_BASE64 = "Your request contains invalid file parameter. It is neither a file nor base64."
# The hardened account (Config.client_upload_folder): our wording, ImageKit has no such
# setting that we know of (UNVERIFIED as ImageKit behaviour).
CLIENT_FOLDER_REFUSED = (
    "Client-side uploads signed with token, expire and signature may only go into {folder} "
    "on this account. Use the upload API V2 with a server-signed token instead."
)
CLIENT_OVERWRITE_REFUSED = (
    "Client-side uploads signed with token, expire and signature may not overwrite an "
    "existing file on this account. Use the upload API V2 with a server-signed token instead."
)
_COPY_CHUNK = 1024 * 1024


def handle_upload(app: ImageKitApp, request: Request) -> dict[str, Any]:
    """Upload API V1: authenticate, store the file part, return the upload response body."""
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        app.check_key(authorization)
    form, files = _form(request)
    client_folder = None
    if authorization is None:
        if "signature" not in form and "publicKey" not in form:
            raise ApiError(401, errors.MISSING_KEY)
        app.client_auth.check(form)
        client_folder = app.config.client_upload_folder
    return store_upload(app, request, form, files, client_folder=client_folder)


def handle_upload_v2(app: ImageKitApp, request: Request) -> dict[str, Any]:
    """Upload API V2: the private key, or a token that binds every form field."""
    authorization = request.headers.get("Authorization")
    form, files = _form(request)
    if authorization is not None:
        if "token" in form:
            raise ApiError(400, errors.TOKEN_AND_KEY)
        app.check_key(authorization)
    else:
        fields = {key: form.getlist(key) for key in form if key not in ("file", "token")}
        # A file part under another name is a field the token cannot have bound.
        fields.update({key: [] for key in files if key != "file"})
        app.upload_tokens.check(form.get("token", ""), fields)
    return store_upload(app, request, form, files)


def _form(request: Request) -> tuple[Any, Any]:
    try:
        return request.form, request.files
    except HTTPException as e:
        raise ApiError(400, f"Your request is not a valid multipart/form-data body: {e}") from e


def store_upload(
    app: ImageKitApp,
    request: Request,
    form: Any,
    files: Any,
    *,
    client_folder: str | None = None,
) -> dict[str, Any]:
    """Receive, probe, run ``checks`` and store an authenticated upload.

    ``client_folder`` (a V1 client-side upload on a hardened server): refuse
    a folder outside it and an overwrite of an existing file, with 403.
    """
    checks = _checks(form.get("checks"))
    folder = sanitise_folder(form.get("folder"))
    if client_folder is not None and not folder.startswith(normalise_folder(client_folder)):
        raise ApiError(403, CLIENT_FOLDER_REFUSED.format(folder=normalise_folder(client_folder)))
    file_name = sanitise_file_name(form.get("fileName", ""))
    if not file_name:
        raise ApiError(400, MISSING_FILE_NAME)
    part = files.get("file")
    temp = app.store.temp_file()
    temp_path = Path(temp.name)
    try:
        with temp:
            size = _receive(part, form.get("file"), temp)
        if size == 0:
            raise ApiError(400, errors.MISSING_FILE)
        if size > app.config.max_file_size:
            raise ApiError(400, errors.FILE_TOO_LARGE)
        options = _options(form)
        found = probe(temp_path, file_name, part.mimetype if part else None)
        if checks is not None and not passes(checks, UploadedFacts(size=size, mime=found.mime)):
            raise ApiError(400, errors.CHECKS_FAILED)
        policy = options["policy"]
        if client_folder is not None:
            # Never replace a file; the clash below tells the two refusals apart.
            policy = dataclasses.replace(policy, overwrite_file=False)
        new = NewFile(
            name=file_name,
            folder=folder,
            size=size,
            mime=found.mime,
            file_type=found.file_type,
            width=found.width,
            height=found.height,
            has_alpha=found.has_alpha,
            tags=options["tags"],
            custom_metadata=options["custom_metadata"],
            custom_coordinates=form.get("customCoordinates") or None,
            description=form.get("description") or None,
            is_private=options["is_private"],
            is_published=options["is_published"],
        )
        record = app.store.put(temp_path, new, policy)
    except PathTakenError:
        if client_folder is not None and options["policy"].overwrite_file:
            raise ApiError(403, CLIENT_OVERWRITE_REFUSED) from None
        raise ApiError(400, errors.FILE_EXISTS) from None
    finally:
        # put() consumes the temp file; on any earlier error it is still ours.
        with contextlib.suppress(FileNotFoundError):
            temp_path.unlink()
    return upload_response(record, app.url_endpoint(request), options["response_fields"])


def _checks(text: str | None):
    """The parsed ``checks`` (None when absent); 400 for what cannot be evaluated."""
    if not text:
        return None
    try:
        return parse_checks(text)
    except CheckSyntaxError as e:
        raise ApiError(400, f"{errors.CHECKS_SYNTAX} ({e})") from None
    except UnsupportedCheckError as e:
        # Valid for ImageKit, maybe, but never passed unevaluated here.
        raise ApiError(400, f"{errors.CHECKS_SYNTAX} The local ImageKit server: {e}.") from None


def _receive(part: FileStorage | None, text: str | None, out: IO[bytes]) -> int:
    """Write the upload's bytes to ``out``; return their count (0: no file)."""
    if part is not None:
        # Stream from the spooled part (on disk past 2 MiB): never a large body in RAM.
        shutil.copyfileobj(part.stream, out, _COPY_CHUNK)
        return out.tell()
    if not text:
        return 0
    if text.startswith(("http://", "https://")):
        raise ApiError(400, URL_UPLOAD_UNSUPPORTED)
    # ImageKit also takes base64, optionally as a data URI.
    payload = text.partition(",")[2] if text.startswith("data:") else text
    try:
        data = base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, INVALID_BASE64) from None
    out.write(data)
    return len(data)


def _options(form: Any) -> dict[str, Any]:
    """Parse the optional fields; raise ApiError 400 naming the bad one."""
    if "transformation" in form:
        _json(form, "transformation", dict, errors.INVALID_TRANSFORMATION)
    if "extensions" in form:
        _json(form, "extensions", list, _invalid("extensions", "Send a JSON array."))
    metadata: dict[str, Any] = {}
    if form.get("customMetadata"):
        metadata = _json(
            form, "customMetadata", dict, _invalid("customMetadata", "Send a JSON object.")
        )
    tags = [tag.strip() for tag in form.get("tags", "").split(",") if tag.strip()]
    return {
        "tags": tags or None,
        "custom_metadata": metadata,
        "is_private": _bool(form, "isPrivateFile", False),
        "is_published": _bool(form, "isPublished", True),
        "response_fields": {
            name.strip() for name in form.get("responseFields", "").split(",") if name.strip()
        },
        "policy": UploadPolicy(
            use_unique_file_name=_bool(form, "useUniqueFileName", True),
            overwrite_file=_bool(form, "overwriteFile", True),
            overwrite_tags=_bool(form, "overwriteTags", True),
            overwrite_custom_metadata=_bool(form, "overwriteCustomMetadata", True),
        ),
    }


def _invalid(field: str, hint: str) -> str:
    return f"Your request contains invalid {field} parameter. {hint}"


def _bool(form: Any, field: str, default: bool) -> bool:
    raw = form.get(field)
    if raw is None or raw == "":
        return default
    if raw in ("true", "false"):
        return raw == "true"
    raise ApiError(400, _invalid(field, "Use true or false."))


def _json(form: Any, field: str, kind: type, message: str) -> Any:
    try:
        value = json.loads(form[field])
    except ValueError:
        raise ApiError(400, message) from None
    if not isinstance(value, kind):
        raise ApiError(400, message)
    return value
