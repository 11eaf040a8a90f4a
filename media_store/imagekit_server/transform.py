"""Renditions for the URL endpoint, via the project's grammar and Pillow renderer."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from media_store.imagekit_server.errors import ApiError

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from media_store.imagekit_server.app import ImageKitApp
    from media_store.imagekit_server.store import FileRecord

try:
    from media_store.exceptions import InvalidTransformationError, UnknownNamedTransformationError
    from media_store.grammar import expand_named, parse
    from media_store.rendering import (
        InvalidSourceError,
        OutputTooLargeError,
        SourceTooLargeError,
        UnsupportedTransformationError,
        negotiate,
        render,
    )
except ImportError as e:  # pragma: no cover - only while the renderer is being changed
    _IMPORT_ERROR: ImportError | None = e
else:
    _IMPORT_ERROR = None


def render_rendition(
    app: ImageKitApp, request: Request, record: FileRecord, chain: str
) -> Response | None:
    """The transformed image, or None when the chain asks for the original (``orig-true``).

    400 for an invalid, unsupported or oversized chain and for non-images; 422
    when the source is too large or unreadable; 501 if the renderer is missing.
    """
    if _IMPORT_ERROR is not None:
        raise ApiError(501, f"Transformations are unavailable here: {_IMPORT_ERROR}")
    accept = request.headers.get("Accept", "")
    try:
        transformation = expand_named(parse(chain), app.config.named_chains)
        if any(step.get("orig") is True for step in transformation.steps):
            # ImageKit: orig-true serves the stored file and ignores everything else.
            return None
        if record.file_type != "image":
            raise ApiError(
                400, f"Transformations apply to images only; this file is {record.mime}."
            )
        negotiated = negotiate(transformation, accept)
        rendered = render(
            app.store.blob_path(record),
            transformation,
            accept=accept,
            max_output_side=app.config.max_output_side,
            max_source_pixels=app.config.max_source_pixels,
            default_quality=app.config.default_quality,
        )
    except UnknownNamedTransformationError as e:
        # ImageKit's answer for a name missing from the dashboard.
        raise ApiError(
            400, f"Invalid transformation: named transformation '{e.name}' does not exist."
        ) from e
    except (InvalidTransformationError, UnsupportedTransformationError, OutputTooLargeError) as e:
        raise ApiError(400, f"Invalid transformation: {e}") from e
    except (SourceTooLargeError, InvalidSourceError) as e:
        raise ApiError(422, f"Cannot transform this file: {e}") from e
    response = Response(rendered.data, content_type=rendered.content_type)
    if negotiated.vary_on_accept:
        response.vary.add("Accept")
    key = f"{record.version_id}|{transformation}|{negotiated.variant}"
    response.set_etag(hashlib.sha1(key.encode()).hexdigest())
    return response.make_conditional(request)
