from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.middleware import LAST_USED_RESOLUTION
from accounts.models import ApiToken, hash_token
from tests.utils import graphql

pytestmark = pytest.mark.django_db

VIEWER_QUERY = "{ products { totalCount } }"


def test_create_api_token_prints_token_once_and_stores_only_its_hash(editor):
    out = StringIO()

    call_command("create_api_token", "editor", stdout=out)

    raw = out.getvalue().strip()
    token = ApiToken.objects.get(user=editor)
    assert raw.startswith("cat_")
    assert token.key_hash == hash_token(raw)
    assert raw not in (token.key_hash, token.key_prefix)
    assert raw.startswith(token.key_prefix)


def test_create_api_token_unknown_user_is_a_command_error():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("create_api_token", "ghost", stdout=StringIO())


def test_bearer_token_authenticates_and_records_last_use(client, editor, editor_token):
    response = client.post(
        "/graphql/",
        data={"query": VIEWER_QUERY},
        content_type="application/json",
        headers={"Authorization": f"Bearer {editor_token}"},
    )

    assert response.status_code == 200
    assert response.wsgi_request.user == editor
    assert ApiToken.objects.get(user=editor).last_used_at is not None


def test_bearer_token_unknown_is_refused_with_401(client, editor_token):
    response = client.post(
        "/graphql/",
        data={"query": VIEWER_QUERY},
        content_type="application/json",
        headers={"Authorization": "Bearer cat_not-a-real-token"},
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["message"] == "Invalid or revoked API token."


def test_bearer_token_of_inactive_user_is_refused(client, editor, editor_token):
    editor.is_active = False
    editor.save()

    response = client.post(
        "/graphql/",
        data={"query": VIEWER_QUERY},
        content_type="application/json",
        headers={"Authorization": f"Bearer {editor_token}"},
    )

    assert response.status_code == 401


def test_anonymous_json_query_needs_no_csrf_token(csrf_client):
    body = graphql(csrf_client, VIEWER_QUERY)

    assert body == {"data": {"products": {"totalCount": 0}}}


def test_bearer_token_last_use_written_at_most_once_a_minute(client, editor, editor_token):
    def use() -> None:
        response = client.post(
            "/graphql/",
            data={"query": VIEWER_QUERY},
            content_type="application/json",
            headers={"Authorization": f"Bearer {editor_token}"},
        )
        assert response.status_code == 200

    def last_used():
        return ApiToken.objects.get(user=editor).last_used_at

    use()
    first = last_used()
    use()
    assert last_used() == first

    earlier = first - LAST_USED_RESOLUTION
    ApiToken.objects.filter(user=editor).update(last_used_at=earlier)
    use()
    assert last_used() > earlier
