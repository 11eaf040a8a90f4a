"""Helpers for tests: GraphQL requests, uploads, image files, management commands."""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from io import StringIO
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

GRAPHQL_URL = "/graphql/"


def graphql(client: Client, query: str, variables: dict | None = None, **headers) -> dict:
    """POST a JSON GraphQL request; return the decoded body."""
    response = client.post(
        GRAPHQL_URL,
        data=json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200, response.content
    return response.json()


def graphql_data(client: Client, query: str, variables: dict | None = None, **headers) -> Any:
    """Like graphql(), asserting there are no top-level errors; return ``data``."""
    body = graphql(client, query, variables, **headers)
    assert "errors" not in body, body["errors"]
    return body["data"]


def product_images_query(selection: str) -> str:
    """``{ products { edges { node { images { <selection> } } } } }``."""
    return f"{{ products {{ edges {{ node {{ images {{ {selection} }} }} }} }} }}"


def nodes(connection: dict) -> list[dict]:
    """The nodes of a Relay connection's ``edges { node }``."""
    return [edge["node"] for edge in connection["edges"]]


def multipart_upload(
    client: Client,
    query: str,
    *,
    content: bytes,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    variables: dict | None = None,
    **headers,
):
    """Send ``query`` as a GraphQL multipart request with one file at ``variables.file``."""
    operations = {"query": query, "variables": {**(variables or {}), "file": None}}
    return client.post(
        GRAPHQL_URL,
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.file"]}),
            "0": SimpleUploadedFile(filename, content, content_type=content_type),
        },
        headers=headers,
    )


# --- Mutations -------------------------------------------------------------------

ERROR_FIELDS = "... on OperationInfo { messages { kind field code message } }"


def user_with(django_user_model, *codenames: str):
    """A user holding the given catalog permissions (by codename)."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("-".join(codenames) or "nobody")
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="catalog", codename__in=codenames)
    )
    return user


def auth(user) -> dict:
    """Headers authenticating as ``user`` with a fresh API token."""
    from accounts.models import ApiToken

    return {"Authorization": f"Bearer {ApiToken.objects.create_token(user)[1]}"}


def errors(result: dict) -> list[tuple[str | None, str | None]]:
    """(field, code) of each message of an OperationInfo result."""
    assert result["__typename"] == "OperationInfo", result
    return [(m["field"], m["code"]) for m in result["messages"]]


def gid(instance) -> str:
    """The global ID of a model instance."""
    from strawberry.relay import to_base64

    return to_base64(type(instance).__name__, instance.pk)


def run(client: Client, document: str, variables: dict, headers: dict | None = None) -> dict:
    """The one root field's result of a mutation document."""
    data = graphql_data(client, document, variables, **(headers or {}))
    return next(iter(data.values()))


# --- Direct uploads to ImageKit ----------------------------------------------------

UPLOAD_AUTH_SELECTION = (
    "uploadUrl token expire fileName folder useUniqueFileName overwriteFile checks "
    "publicKey urlEndpoint formFields { name value }"
)


def browser_upload(
    auth: dict,
    content: bytes,
    *,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    fields: dict[str, str | None] | None = None,
):
    """POST ``content`` to ``auth["uploadUrl"]`` as a browser does, with no private key.

    ``auth`` is an ``imagekitUploadAuth`` result: its ``formFields`` are sent as
    text parts, then the file as ``file``. ``fields`` changes them (None drops one).
    """
    import httpx

    form = {field["name"]: field["value"] for field in auth["formFields"]}
    for name, value in (fields or {}).items():
        if value is None:
            form.pop(name, None)
        else:
            form[name] = value
    return httpx.post(
        auth["uploadUrl"], data=form, files={"file": (filename, content, content_type)}
    )


@dataclass(frozen=True)
class Called:
    """What a management command wrote, and the CommandError it ended with (None: exit 0)."""

    output: str
    error: CommandError | None

    @property
    def returncode(self) -> int:
        return 0 if self.error is None else self.error.returncode


def call(name: str, *args: str, stdout: StringIO | None = None) -> Called:
    """Run ``manage.py <name> <args>`` as the shell would, keeping a CommandError."""
    out = stdout or StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=StringIO())
    except CommandError as e:
        return Called(out.getvalue(), e)
    return Called(out.getvalue(), None)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
