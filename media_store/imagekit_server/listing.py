"""``GET /v1/files``: list and search files (and the folders their paths imply)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from media_store.imagekit_server.errors import ApiError
from media_store.imagekit_server.names import normalise_folder
from media_store.imagekit_server.search import SearchQueryError, compile_query
from media_store.imagekit_server.serialize import file_object, folder_object, format_of
from media_store.imagekit_server.store import FileRecord

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from media_store.imagekit_server.app import ImageKitApp

TYPES = ("file", "file-version", "folder", "all")
FILE_TYPES = ("all", "image", "non-image")
SORT_KEYS = {
    "NAME": "name",
    "CREATED": "createdAt",
    "UPDATED": "updatedAt",
    "SIZE": "size",
    "HEIGHT": "height",
    "WIDTH": "width",
    # No relevance ranking, durations or original capture dates here: fall back to creation.
    "RELEVANCE": "createdAt",
    "ORIGINAL_CREATION_DATE": "createdAt",
    "DURATION": "createdAt",
}
MAX_LIMIT = 1000


def handle_list(app: ImageKitApp, request: Request) -> list[dict[str, Any]]:
    args = request.args
    asset_type = _choice(args, "type", TYPES, "file")
    file_type = _choice(args, "fileType", FILE_TYPES, "all")
    skip = _integer(args, "skip", 0, low=0)
    limit = _integer(args, "limit", MAX_LIMIT, low=1, high=MAX_LIMIT)
    descending, sort_field = _sort(args.get("sort") or "ASC_CREATED")
    folder = normalise_folder(args["path"]) if args.get("path") else None
    query = args.get("searchQuery")
    predicate = None
    if query:
        try:
            predicate = compile_query(query)
        except SearchQueryError as e:
            raise ApiError(400, f"Your request contains invalid searchQuery parameter: {e}.") from e

    records = app.store.files(folder)
    all_records = records if folder is None else app.store.files()
    # With searchQuery, ImageKit ignores ``type``: files and folders are both candidates.
    want_files = predicate is not None or asset_type in ("file", "all")
    want_folders = (predicate is not None or asset_type in ("folder", "all")) and file_type == "all"
    documents: list[dict[str, Any]] = []
    if want_folders:
        documents.extend(_folders(all_records, folder))
    if want_files:
        documents.extend(
            document(record)
            for record in records
            if file_type == "all" or record.file_type == file_type
        )
    if predicate is not None:
        documents = [doc for doc in documents if predicate(doc)]

    documents.sort(
        key=lambda doc: (_sortable(doc.get(sort_field)), doc["_seq"]), reverse=descending
    )
    endpoint = app.url_endpoint(request)
    return [_render(doc, endpoint) for doc in documents[skip : skip + limit]]


def document(record: FileRecord) -> dict[str, Any]:
    """A record as searchQuery sees it (field names from ImageKit's query language)."""
    return {
        "_record": record,
        "_seq": (1, record.created_at, record.seq),
        "type": "file",
        "name": record.name,
        "fileType": record.file_type,
        "format": format_of(record),
        "tags": record.tags or [],
        "private": record.is_private,
        "published": record.is_published,
        "transparency": record.has_alpha,
        "width": record.width,
        "height": record.height,
        "size": record.size,
        "createdAt": record.created_at,
        "updatedAt": record.updated_at,
        **{f"customMetadata.{key}": value for key, value in record.custom_metadata.items()},
    }


def _folders(records: list[FileRecord], parent: str | None) -> list[dict[str, Any]]:
    """Folders implied by file paths: direct children of ``parent``, or all when None."""
    spans: dict[str, tuple[int, int]] = {}
    for record in records:
        segments = record.folder.strip("/").split("/") if record.folder != "/" else []
        for depth in range(1, len(segments) + 1):
            path = "/" + "".join(f"{s}/" for s in segments[:depth])
            created, updated = spans.get(path, (record.created_at, record.updated_at))
            spans[path] = (min(created, record.created_at), max(updated, record.updated_at))
    documents = []
    for path, (created, updated) in spans.items():
        if parent is not None and path.rsplit("/", 2)[0] + "/" != parent:
            continue
        documents.append(
            {
                "_folder": path,
                "_seq": (0, created, path),
                "type": "folder",
                "name": path.rstrip("/").rsplit("/", 1)[-1],
                "createdAt": created,
                "updatedAt": updated,
                "size": 0,
            }
        )
    return documents


def _render(doc: Mapping[str, Any], endpoint: str) -> dict[str, Any]:
    if "_record" in doc:
        return file_object(doc["_record"], endpoint)
    return folder_object(doc["_folder"], doc["createdAt"], doc["updatedAt"])


def _sortable(value: Any) -> tuple[int, Any]:
    # Missing values (a PDF's width) sort first in ascending order; never compare None.
    return (0, 0) if value is None else (1, value)


def _choice(args: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = args.get(name) or default
    if value not in choices:
        raise ApiError(
            400,
            f"Your request contains invalid {name} parameter. Use one of: {', '.join(choices)}.",
        )
    return value


def _integer(
    args: Mapping[str, str], name: str, default: int, *, low: int, high: int | None = None
) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    bounds = f">= {low}" if high is None else f"from {low} to {high}"
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        raise ApiError(
            400, f"Your request contains invalid {name} parameter. Use an integer {bounds}."
        )
    return value


def _sort(raw: str) -> tuple[bool, str]:
    direction, _, key = raw.partition("_")
    if direction not in ("ASC", "DESC") or key not in SORT_KEYS:
        keys = ", ".join(SORT_KEYS)
        raise ApiError(
            400,
            f"Your request contains invalid sort parameter. Use ASC_ or DESC_ followed by one of: "
            f"{keys}.",
        )
    return direction == "DESC", SORT_KEYS[key]
