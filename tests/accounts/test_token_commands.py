"""list_api_tokens and revoke_api_token: tokens are listed by prefix, never shown again."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db

VIEWER_QUERY = "{ products { totalCount } }"


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def tokens(editor, django_user_model):
    other = django_user_model.objects.create_user("other")
    return {
        "ci": ApiToken.objects.create_token(editor, name="ci"),
        "laptop": ApiToken.objects.create_token(editor, name="laptop"),
        "other": ApiToken.objects.create_token(other),
    }


def test_list_api_tokens_shows_prefixes_never_tokens(tokens):
    listed = run("list_api_tokens")

    lines = listed.splitlines()
    assert lines[0].startswith("ID")
    assert lines[0].split()[1:4] == ["PREFIX", "USER", "NAME"]
    assert len(lines) == 4
    for token, raw in tokens.values():
        assert raw not in listed
        assert raw[12:20] not in listed, "nothing past the prefix"
        assert f"{token.key_prefix}…" in listed
    assert "never" in lines[1]


def test_list_api_tokens_for_one_user(tokens):
    listed = run("list_api_tokens", "--user=other")

    assert len(listed.splitlines()) == 2
    assert tokens["other"][0].key_prefix in listed
    assert run("list_api_tokens", "--user=nobody") == "No API tokens for 'nobody'.\n"


def test_revoke_api_token_by_id_prefix_or_token_refuses_at_once(client, tokens):
    ci, ci_raw = tokens["ci"]
    laptop, _ = tokens["laptop"]
    _, other_raw = tokens["other"]

    out = run("revoke_api_token", str(ci.pk), laptop.key_prefix, other_raw)

    assert not ApiToken.objects.exists()
    assert f"Revoked {ci.pk} {ci.key_prefix}… (editor)" in out
    assert other_raw not in out
    response = client.post(
        "/graphql/",
        data={"query": VIEWER_QUERY},
        content_type="application/json",
        headers={"Authorization": f"Bearer {ci_raw}"},
    )
    assert response.status_code == 401


def test_revoke_api_token_all_of_a_user(tokens):
    out = run("revoke_api_token", "--user=editor")

    assert out.count("Revoked") == 2
    assert list(ApiToken.objects.all()) == [tokens["other"][0]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Name the tokens to revoke"),
        (("999",), "No API token '999'"),
        (("cat_nope",), "No API token 'cat_nope'"),
        (("--user=nobody",), "User 'nobody' has no API tokens"),
    ],
)
def test_revoke_api_token_refusals_change_nothing(tokens, args, message):
    with pytest.raises(CommandError, match=message):
        run("revoke_api_token", *args)

    assert ApiToken.objects.count() == 3


def test_revoke_api_token_ambiguous_prefix_names_the_ids(tokens):
    ci, _ = tokens["ci"]
    laptop, _ = tokens["laptop"]
    ApiToken.objects.filter(pk=laptop.pk).update(key_prefix=ci.key_prefix)

    with pytest.raises(CommandError, match=f"matches tokens .*{laptop.pk}.*; revoke one by id"):
        run("revoke_api_token", ci.key_prefix)

    assert ApiToken.objects.count() == 3
