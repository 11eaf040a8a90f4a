"""Database work per request is bounded: on PostgreSQL by a statement timeout,
whose cancellations reach the client as a coded error, not "Unexpected error."."""

from __future__ import annotations

import psycopg.errors
import pytest
from django.db import OperationalError, connection
from graphql import GraphQLError

from graphql_limits import ErrorCode, MaskUnexpectedErrors

pytestmark = pytest.mark.django_db


def test_statement_timeout_configured_for_the_database():
    options = connection.settings_dict.get("OPTIONS", {})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            (value,) = cursor.fetchone()
        assert value == "5s"
    else:
        # SQLite, the embedded default, has no statement timeout: the input limits
        # bound each statement instead.
        assert "options" not in options


def cancelled() -> OperationalError:
    """What Django raises when PostgreSQL cancels a statement (SQLSTATE 57014)."""
    try:
        try:
            raise psycopg.errors.QueryCanceled("canceling statement due to statement timeout")
        except psycopg.errors.QueryCanceled as e:
            raise OperationalError(*e.args) from e
    except OperationalError as wrapped:
        return wrapped


def test_cancelled_statement_is_a_coded_error_not_an_unexpected_one():
    error = GraphQLError("x", path=["products"], original_error=cancelled())

    masked = MaskUnexpectedErrors().anonymise_error(error)

    assert masked.extensions == {"code": ErrorCode.QUERY_TIMEOUT}
    assert "DATABASE_STATEMENT_TIMEOUT" in masked.message
    assert "canceling" not in masked.message


def test_other_database_errors_stay_masked():
    error = GraphQLError("x", path=["products"], original_error=OperationalError("disk I/O"))

    masked = MaskUnexpectedErrors().anonymise_error(error)

    assert (masked.message, masked.extensions) == (
        "Unexpected error.",
        {"code": ErrorCode.INTERNAL_SERVER_ERROR},
    )
