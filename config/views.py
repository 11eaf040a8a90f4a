"""The GraphQL endpoint: strawberry's Django view, hardened for public traffic.

Every refusal is JSON in GraphQL's error shape with a code and a message that
says what to fix (``{"errors": [{"message": ..., "extensions": {"code": ...}}]}``),
never an HTML page or a 500. Uploads are refused before their body is read when
the client may not upload, or says it will send more than the limit.

Queries come as POST or GET (``?query=`` or Apollo's ``?extensions=`` with a
persisted query's hash, ``&variables=``, ``&operationName=``); mutations only as
POST. Persisted queries and the response cache are config.graphql_cache's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cross_web import HTTPException
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.context import StrawberryDjangoContext
from strawberry.django.views import GraphQLView
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http.types import QueryParams
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from catalog.conf import catalog_setting
from config.graphql_cache import persisted, responses
from config.request_errors import RequestError, error_response
from graphql_limits import ErrorCode

# The permissions that make a multipart (upload) request worth reading.
UPLOAD_PERMISSIONS = ("catalog.add_image", "catalog.change_image")
# Room for the multipart framing and the `operations`/`map` fields around one
# file of MAX_UPLOAD_BYTES.
MULTIPART_OVERHEAD = 1024 * 1024


@dataclass
class CatalogContext(StrawberryDjangoContext):
    """strawberry's Django context, plus the operation name as the client sent it,
    and the type of the operation that ran.

    strawberry fills a missing operationName with the document's first operation;
    the limits extension needs to know it was missing (GraphQL spec: a document
    with several operations needs one). ``operation_type`` stays None unless the
    document passed the limits and validation (config.graphql_cache.extension).
    """

    requested_operation: str | None = None
    operation_type: OperationType | None = None


def _noop(request):  # CsrfViewMiddleware needs a get_response; it is never called
    return None


def upload_limit() -> int:
    """Most bytes a multipart request may carry: one largest upload and its framing."""
    return catalog_setting("MAX_UPLOAD_BYTES") + MULTIPART_OVERHEAD


class BoundedUploadHandler(FileUploadHandler):
    """Stops a multipart upload as soon as its files pass ``limit`` bytes.

    Django reads no further than Content-Length, which the view checks first
    (allowing for the framing); this stops the file bytes themselves at the
    upload limit while they stream, before anything reaches the storage, and
    bounds a body whose length is not known in advance (ASGI, chunked).
    """

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise RequestError(
                413,
                ErrorCode.BODY_TOO_LARGE,
                f"The uploaded files are larger than {self.limit} bytes "
                "(CATALOG_MAX_UPLOAD_BYTES); send a smaller file.",
            )
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _too_large_message(limit: int, what: str) -> str:
    return (
        f"The upload {what} than {limit} bytes, the most one request may carry "
        f"(CATALOG_MAX_UPLOAD_BYTES plus {MULTIPART_OVERHEAD} for the form); send a smaller file."
    )


@method_decorator(csrf_exempt, name="dispatch")
class CatalogGraphQLView(GraphQLView):
    """GraphQL endpoint with GraphiQL and multipart uploads.

    Django's blanket CSRF check would refuse every anonymous POST, so it is
    replaced by a narrower one: requests authenticated by the session cookie
    must carry a CSRF token unless their body is JSON. A cross-site form can
    post multipart or urlencoded bodies with the user's cookie, but not JSON
    (that needs a CORS preflight). Bearer-token requests are exempt; the
    token middleware marks them.
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            if request.method == "POST" and request.content_type == "multipart/form-data":
                refusal = self._refuse_upload_early(request)
                if refusal is not None:
                    return refusal
                request.upload_handlers.insert(
                    0, BoundedUploadHandler(request, catalog_setting("MAX_UPLOAD_BYTES"))
                )
            if (
                request.method == "POST"
                and request.content_type != "application/json"
                and request.user.is_authenticated
            ):
                refusal = CsrfViewMiddleware(_noop).process_view(request, None, (), {})
                if refusal is not None:
                    return error_response(
                        403,
                        ErrorCode.FORBIDDEN,
                        "CSRF check failed: a signed-in browser must send the csrftoken "
                        "cookie's value as X-CSRFToken (or send JSON, or use a Bearer token).",
                    )
            return self.run(request=request)
        except RequestError as e:
            return error_response(e.status_code, e.code, e.reason, e.headers)
        except HTTPException as e:
            # strawberry's own refusals (method, content type, operation type...).
            return error_response(e.status_code, ErrorCode.BAD_REQUEST, e.reason)
        except UnicodeDecodeError as e:
            # strawberry's request adapter decodes the body before we see it.
            return error_response(400, ErrorCode.INVALID_JSON, _not_utf8(e))
        except RequestDataTooBig:
            return error_response(
                413,
                ErrorCode.BODY_TOO_LARGE,
                "The request body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE allows; "
                "send a shorter query or fewer variables.",
            )
        except (MultiPartParserError, SuspiciousOperation) as e:
            # Malformed multipart framing, too many parts or fields.
            return error_response(
                400,
                ErrorCode.INVALID_MULTIPART,
                f"The multipart body cannot be read ({e}); follow the GraphQL multipart "
                "request spec: the fields `operations`, `map`, then one part per file.",
            )

    def run(
        self, request: HttpRequest, context: Any = UNSET, root_value: Any = UNSET
    ) -> HttpResponseBase:
        """strawberry's ``run``, with persisted queries and the response cache around
        the execution; a stored response is answered without reading the document."""
        adapter = self.request_adapter_class(request)
        if not self.is_request_allowed(adapter):
            raise HTTPException(405, "GraphQL only supports GET and POST requests.")
        if self.should_render_graphql_ide(adapter):
            return self.render_graphql_ide(request)
        # One operation: batches are refused here (the schema does not enable them).
        data = self.parse_http_body(adapter)
        persisted_query = persisted.read_extension(data.extensions, data.query)
        slot = responses.slot_for(request, data, persisted_query)
        if slot is not None and (stored := responses.cached_response(request, slot)) is not None:
            return stored
        if data.query is None and persisted_query is not None:
            data.query = persisted.load(persisted_query)  # only a listed one in allow-list mode
        elif data.query is not None:
            persisted.check_listed(data.query, persisted_query)

        sub_response = self.get_sub_response(request)
        if context is UNSET:
            context = self.get_context(request, response=sub_response)
        result = self.execute_single(
            request=request,
            request_adapter=adapter,
            sub_response=sub_response,
            context=context,
            root_value=self.get_root_value(request) if root_value is UNSET else root_value,
            request_data=data,
        )
        ran = getattr(context, "operation_type", None)
        if persisted_query is not None and ran is not None:
            persisted.remember(persisted_query, data.query)
        response = self.create_response(self.process_result(request, result), sub_response)
        succeeded = ran is OperationType.QUERY and not result.errors
        return responses.finish(request, response, slot=slot, succeeded=succeeded)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A persisted query's GET has no `query` either; curl sends Accept: */*.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    def get_context(self, request: HttpRequest, response: HttpResponse) -> CatalogContext:
        return CatalogContext(request=request, response=response)

    def execute_single(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["context"].requested_operation = kwargs["request_data"].operation_name
        try:
            return super().execute_single(*args, **kwargs)
        except HTTPException as e:
            if isinstance(e.__cause__, InvalidOperationTypeError) and (
                kwargs["request_adapter"].method == "GET"
            ):
                raise RequestError(
                    405,
                    ErrorCode.POST_REQUIRED,
                    f"A {e.__cause__.operation_type.value} cannot be sent with GET, which "
                    "runs queries only (a CDN may cache or repeat it); send it with POST.",
                    headers={"Allow": "POST"},
                ) from e
            raise

    def _refuse_upload_early(self, request: HttpRequest) -> JsonResponse | None:
        """Refuse an upload the client may not make, without reading its body."""
        user = request.user
        if not user.is_authenticated:
            return error_response(
                401,
                ErrorCode.UNAUTHENTICATED,
                "Uploads need a signed-in user: send 'Authorization: Bearer <token>' "
                "(manage.py create_api_token) or a session.",
                headers={"WWW-Authenticate": 'Bearer realm="api"'},
            )
        if not any(user.has_perm(permission) for permission in UPLOAD_PERMISSIONS):
            return error_response(
                403,
                ErrorCode.FORBIDDEN,
                f"Uploads need one of the permissions {', '.join(UPLOAD_PERMISSIONS)}.",
            )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = upload_limit()
        if length > limit:
            return error_response(
                413, ErrorCode.BODY_TOO_LARGE, _too_large_message(limit, "would be larger")
            )
        return None

    # --- parsing: every malformed body is a 400 that says what is wrong ----------

    def decode_json(self, data: str | bytes, what: str = "The body") -> object:
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            return json.loads(text)
        except UnicodeDecodeError as e:
            raise RequestError(400, ErrorCode.INVALID_JSON, _not_utf8(e)) from e
        except RecursionError as e:
            raise RequestError(
                400, ErrorCode.INVALID_JSON, f"{what} is nested too deeply to read."
            ) from e
        except json.JSONDecodeError as e:
            raise RequestError(
                400,
                ErrorCode.INVALID_JSON,
                f"{what} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}.",
            ) from e

    def parse_http_body(self, request: Any) -> Any:
        data = super().parse_http_body(request)
        # strawberry checks query, variables and extensions, but not this one.
        if not isinstance(data, list) and not isinstance(data.operation_name, str | None):
            raise RequestError(
                400,
                ErrorCode.BAD_REQUEST,
                "The GraphQL operation's `operationName` must be a string or null, if provided.",
            )
        return data

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        """A GET's parameters, ``variables`` and ``extensions`` decoded from JSON."""
        parsed: dict[str, Any] = dict(params)
        for name in ("variables", "extensions"):
            if parsed.get(name):
                parsed[name] = self.decode_json(parsed[name], f"The `{name}` parameter")
        return parsed

    def parse_multipart(self, request: Any) -> dict[str, Any]:
        """Read a GraphQL multipart request, checking ``map`` before following it."""
        post = request.post_data
        operations = self.parse_json(post.get("operations") or "null")
        if not isinstance(operations, dict):
            raise _multipart_error("`operations` must be a JSON object with `query`.")
        files_map = self.parse_json(post.get("map") or "{}")
        if not isinstance(files_map, dict) or not all(
            isinstance(paths, list) and all(isinstance(path, str) for path in paths)
            for paths in files_map.values()
        ):
            raise _multipart_error(
                "`map` must be a JSON object of part names to lists of paths, as in "
                '{"0": ["variables.file"]}.'
            )
        files = request.files
        for part, paths in files_map.items():
            if part not in files:
                raise _multipart_error(f"`map` names the file part {part!r}, which was not sent.")
            for path in paths:
                _check_placeholder(operations, path)
        return replace_placeholders_with_files(operations, files_map, files)


def _not_utf8(error: UnicodeDecodeError) -> str:
    return f"The body is not UTF-8 (byte {error.start} cannot be decoded); send JSON as UTF-8."


def _multipart_error(message: str) -> RequestError:
    return RequestError(400, ErrorCode.INVALID_MULTIPART, message)


def _check_placeholder(operations: dict[str, Any], path: str) -> None:
    """``path`` (``variables.file`` or ``variables.files.0``) must name a null in the variables."""
    keys = path.split(".")
    target: Any = operations
    found = keys[0] == "variables"
    for key in keys if found else ():
        if isinstance(target, dict) and key in target:
            target = target[key]
        elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
            target = target[int(key)]
        else:
            found = False
            break
    if not found or target is not None:
        raise _multipart_error(
            f"`map` path {path!r} must point at a null placeholder inside `variables` "
            "(the variable the file is for, set to null in `operations`)."
        )


__all__ = ["CatalogGraphQLView", "error_response"]
