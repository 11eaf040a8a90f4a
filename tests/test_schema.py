from __future__ import annotations

from pathlib import Path

from django.conf import settings
from strawberry.printer import print_schema

from config.schema import schema


def test_committed_schema_matches_code():
    committed = (Path(settings.BASE_DIR) / "schema.graphql").read_text(encoding="utf-8")

    assert committed == print_schema(schema), (
        "schema.graphql is out of date: run `make schema` and commit the result."
    )
