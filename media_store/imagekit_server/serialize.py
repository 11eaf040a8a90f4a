"""Records to ImageKit's JSON: the upload response, File and Folder objects."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from media_store.imagekit_server.store import FileRecord
from media_store.urlbuilder import URL_PATH_SAFE

THUMBNAIL_CHAIN = "n-ik_ml_thumbnail"


def iso(ms: int) -> str:
    """Epoch milliseconds as ImageKit writes dates: ``2024-05-01T12:00:00.123Z``."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def file_url(url_endpoint: str, record: FileRecord) -> str:
    return f"{url_endpoint}{quote(record.file_path, safe=URL_PATH_SAFE)}"


def thumbnail_url(url_endpoint: str, record: FileRecord) -> str:
    # ImageKit gives non-images an empty thumbnail; images a named-transformation URL.
    if record.file_type != "image":
        return ""
    return f"{url_endpoint}/tr:{THUMBNAIL_CHAIN}{quote(record.file_path, safe=URL_PATH_SAFE)}"


def _version(record: FileRecord) -> dict[str, str]:
    return {"id": record.version_id, "name": f"Version {record.version_number}"}


def upload_response(
    record: FileRecord, url_endpoint: str, response_fields: Collection[str] = ()
) -> dict[str, Any]:
    """The upload answer [SDK types/file_upload_response.py]: ``thumbnailUrl``, no ``mime``."""
    body: dict[str, Any] = {
        "fileId": record.file_id,
        "name": record.name,
        "size": record.size,
        "versionInfo": _version(record),
        "filePath": record.file_path,
        "url": file_url(url_endpoint, record),
        "fileType": record.file_type,
        "height": record.height,
        "width": record.width,
        "thumbnailUrl": thumbnail_url(url_endpoint, record),
        "AITags": None,
        "tags": record.tags,
        "isPrivateFile": record.is_private,
        "isPublished": record.is_published,
        "customCoordinates": record.custom_coordinates,
    }
    if record.file_type != "image":
        # Dimensions only exist for images; ImageKit omits them for other files.
        del body["height"], body["width"]
    if record.description is not None:
        body["description"] = record.description
    if "customMetadata" in response_fields:
        body["customMetadata"] = record.custom_metadata
    if "embeddedMetadata" in response_fields:
        # The emulator extracts no EXIF/IPTC; an empty object keeps the shape.
        body["embeddedMetadata"] = {}
    if "metadata" in response_fields:
        body["metadata"] = _metadata(record)
    return body


def _metadata(record: FileRecord) -> dict[str, Any]:
    return {
        "height": record.height,
        "width": record.width,
        "size": record.size,
        "format": format_of(record),
        "hasTransparency": record.has_alpha,
    }


def file_object(record: FileRecord, url_endpoint: str) -> dict[str, Any]:
    """A File as ``files.get`` and ``assets.list`` return it [SDK types/file.py]."""
    return {
        "type": "file",
        "fileId": record.file_id,
        "name": record.name,
        "filePath": record.file_path,
        "url": file_url(url_endpoint, record),
        "thumbnail": thumbnail_url(url_endpoint, record),
        "fileType": record.file_type,
        "mime": record.mime,
        "height": record.height,
        "width": record.width,
        "size": record.size,
        "hasAlpha": record.has_alpha,
        "tags": record.tags,
        "AITags": None,
        "customCoordinates": record.custom_coordinates,
        "customMetadata": record.custom_metadata,
        "isPrivateFile": record.is_private,
        "isPublished": record.is_published,
        "versionInfo": _version(record),
        "description": record.description,
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
    }


def folder_id(folder_path: str) -> str:
    """Folders are implied by file paths here, so their id is derived from the path."""
    return hashlib.sha1(folder_path.encode()).hexdigest()[:24]


def folder_object(folder_path: str, created_at: int, updated_at: int) -> dict[str, Any]:
    """A Folder [SDK types/folder.py]; ``folder_path`` is ``/a/b/``."""
    path = folder_path.rstrip("/")
    return {
        "type": "folder",
        "folderId": folder_id(folder_path),
        "folderPath": path,
        "name": path.rsplit("/", 1)[-1],
        "customMetadata": {},
        "createdAt": iso(created_at),
        "updatedAt": iso(updated_at),
    }


_IMAGE_FORMATS = {"image/jpeg": "jpg", "image/svg+xml": "svg", "image/x-icon": "ico"}


def format_of(record: FileRecord) -> str:
    """The ``format`` search field: ``jpg``, ``png``... for images, else the file extension."""
    if record.file_type == "image":
        return _IMAGE_FORMATS.get(record.mime) or record.mime.partition("/")[2]
    if "." in record.name:
        return record.name.rpartition(".")[2].lower()
    subtype = record.mime.partition("/")[2]
    return "" if subtype == "octet-stream" else subtype
