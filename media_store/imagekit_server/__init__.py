"""A local ImageKit-compatible server for tests and development (like moto for S3).

The real ``imagekitio`` SDK talks to it over HTTP::

    with ImageKitServer(root=tmp_path) as server:
        client = ImageKit(private_key=server.private_key, base_url=server.url)
        uploaded = client.files.upload(file=b"...", file_name="a.jpg")
        server.faults.fail("upload", 503, times=1, headers={"retry-after-ms": "10"})
        url = client.helper.build_url(src=uploaded.file_path, url_endpoint=server.url_endpoint)

Routes: ``POST /api/v1/files/upload``, ``POST /api/v2/files/upload``, ``GET /v1/files``,
``GET /v1/files/{id}/details``, ``DELETE /v1/files/{id}``,
``POST /v1/files/batch/deleteByFileIds`` and the URL endpoint ``GET /cdn/<endpoint_id>/...``
(originals, ``tr:`` and ``?tr=``, signed URLs). Unauthenticated admin routes for another
process: ``/__faults__`` (GET/POST/DELETE), ``/__requests__`` (GET/DELETE),
``POST /__reset__``, ``/__health__``.

Uploads: the private key in Basic auth (both versions); V1 client-side parameters
(publicKey, token, expire, signature: HMAC-SHA1 of token + expire, so nothing else
is signed); V2 client-side tokens, verified as ImageKit documents them (``auth.py``):
a JWT, HS256 with the private key, ``kid`` = the public key, ``iat``/``exp`` at most
an hour apart, every form field but ``file``/``token`` equal to the payload's and
none missing, each token accepted once. ``checks`` are evaluated for the subset in
``checks.py``; anything else there is a 400, never passed unchecked.

Hardened account: ``ImageKitServer(client_upload_folder="/catalog/uploads/")`` (or
``manage.py imagekit_server --client-upload-folder /catalog/uploads/``) refuses, with
403, a V1 client-side upload that targets a folder outside that one or would
overwrite an existing file (``overwriteFile`` true, the default, with
``useUniqueFileName=false`` on a taken path). Use it to check that a V1 signature
leaked to a browser cannot replace a catalog image.

Not emulated: file versions as assets (an overwrite replaces the bytes and bumps
``versionInfo``; ``type=file-version`` lists nothing), folders as objects of their
own (they are implied by file paths and vanish with their last file), AI tags,
extensions, embedded metadata, URL uploads, rate limiting. ``searchQuery`` covers
the subset documented in ``search.py``.

Nothing in this package imports Django; ``manage.py imagekit_server`` wraps it.
"""

from __future__ import annotations

from media_store.imagekit_server.app import ImageKitApp
from media_store.imagekit_server.config import Config
from media_store.imagekit_server.faults import (
    ENDPOINTS,
    Fault,
    FaultInjector,
    LoggedRequest,
    RequestLog,
)
from media_store.imagekit_server.search import SUPPORTED_FIELDS, SearchQueryError
from media_store.imagekit_server.server import (
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    ImageKitServer,
)
from media_store.imagekit_server.store import FileRecord, Store

__all__ = [
    "DEFAULT_PRIVATE_KEY",
    "DEFAULT_PUBLIC_KEY",
    "ENDPOINTS",
    "SUPPORTED_FIELDS",
    "Config",
    "Fault",
    "FaultInjector",
    "FileRecord",
    "ImageKitApp",
    "ImageKitServer",
    "LoggedRequest",
    "RequestLog",
    "SearchQueryError",
    "Store",
]
