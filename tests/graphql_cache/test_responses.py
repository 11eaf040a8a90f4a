"""The response cache: hits without SQL, what is never stored, ETags, 304s and Cache-Control."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Category
from config.graphql_cache.bodies import RecentBodies, recent_bodies
from config.graphql_cache.conf import graphql_cache_settings, response_cache_seconds
from config.graphql_cache.persisted import CLIENT_PREFIX
from tests.catalog.factories import product_with_images, stored_image
from tests.conftest import make_image_bytes
from tests.graphql_cache.conftest import error_code, get, persisted, post, sha256
from tests.utils import auth, multipart_upload, user_with

pytestmark = pytest.mark.django_db

LISTING = """
query Listing($first: Int) {
  products(first: $first) {
    totalCount
    edges { node {
      name slug
      thumbnail { url(preset: "card") }
      images { id url(transform: {width: 200}) }
    } }
  }
}
"""
PRODUCT = "query Product($slug: String!) { product(slug: $slug) { name } }"
CREATE_CATEGORY = """
mutation Create($input: CategoryInput!) {
  createCategory(input: $input) { __typename ... on Category { name } }
}
"""


def response_keys(redis_url: str) -> list[bytes]:
    return list(redis.Redis.from_url(redis_url).scan_iter("*graphql:response:*"))


def stored_bytes(redis_url: str) -> list[bytes]:
    """Every value in the Redis, as stored (Django pickles them)."""
    client = redis.Redis.from_url(redis_url)
    return [client.get(key) or b"" for key in client.scan_iter("*")]


@pytest.fixture
def catalog():
    return [product_with_images(i) for i in range(3)]


# --- Hits ----------------------------------------------------------------------------------


def test_hit_runs_no_sql(client, response_cache, catalog, django_assert_num_queries):
    first = get(client, query=LISTING, variables={"first": 2})

    with django_assert_num_queries(0):
        second = get(client, query=LISTING, variables={"first": 2})

    assert second.status_code == 200
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert len(second.json()["data"]["products"]["edges"]) == 2


def test_persisted_get_hit_needs_no_document(client, response_cache, catalog):
    post(client, {"query": LISTING, "extensions": persisted(LISTING)})
    get(client, hash_of=LISTING)
    # Even with its document gone from the cache, the stored response answers.
    cache.delete(CLIENT_PREFIX + sha256(LISTING))

    response = get(client, hash_of=LISTING)

    assert response.status_code == 200
    assert response.json()["data"]["products"]["totalCount"] == 3


def test_post_queries_are_cached_too(client, response_cache, catalog, django_assert_num_queries):
    first = post(client, {"query": LISTING})

    with django_assert_num_queries(0):
        second = post(client, {"query": LISTING})

    assert second.content == first.content
    # Not a GET: no HTTP caching headers.
    assert not second.has_header("ETag")
    assert not second.has_header("Cache-Control")


def test_variables_and_operation_name_are_part_of_the_key(client, response_cache, catalog):
    one = get(client, query=PRODUCT, variables={"slug": "product-1"})
    two = get(client, query=PRODUCT, variables={"slug": "product-2"})
    document = f"{PRODUCT}\nquery Other {{ categories {{ name }} }}"
    named = get(client, query=document, operation_name="Product", variables={"slug": "product-1"})
    other = get(client, query=document, operation_name="Other")

    assert one.json() == {"data": {"product": {"name": "Product 001"}}}
    assert two.json() == {"data": {"product": {"name": "Product 002"}}}
    assert named.json() == {"data": {"product": {"name": "Product 001"}}}
    assert other.json() == {"data": {"categories": []}}


def test_signed_in_viewers_get_entries_of_their_own(
    client, response_cache, catalog, django_user_model, django_assert_num_queries
):
    headers = auth(django_user_model.objects.create_user("shopper"))
    get(client, query=LISTING)
    get(client, query=LISTING, **headers)

    # The token's lookup (its last use was written a moment ago, and is written at
    # most once a minute): the listing itself comes from the cache.
    with django_assert_num_queries(1):
        signed_in = get(client, query=LISTING, **headers)

    assert signed_in.status_code == 200
    assert len(response_keys(response_cache)) == 2


def test_anonymous_viewers_never_get_what_signed_in_ones_may(
    client, response_cache, settings, catalog, django_user_model
):
    # Anonymous viewers get presets only: a signed-in viewer's transformed URLs,
    # once cached, must not answer an anonymous request.
    settings.CATALOG = {**settings.CATALOG, "ANONYMOUS_PRESETS_ONLY": True}
    headers = auth(django_user_model.objects.create_user("shopper"))
    assert "errors" not in get(client, query=LISTING, **headers).json()

    response = get(client, query=LISTING)

    assert error_code(response) == "PRESETS_ONLY"


def test_response_cache_is_off_with_a_per_process_cache(
    client, settings, catalog, django_assert_num_queries
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.GRAPHQL_CACHE = {**settings.GRAPHQL_CACHE, "RESPONSE_CACHE_SECONDS": 300}
    get(client, query=PRODUCT, variables={"slug": "product-1"})

    assert response_cache_seconds() == 0
    with django_assert_num_queries(1):
        get(client, query=PRODUCT, variables={"slug": "product-1"})


def test_changed_settings_leave_old_entries_unused(client, response_cache, settings, catalog):
    document = "{ categories { parent { name } } }"
    assert "errors" not in get(client, query=document).json()
    settings.GRAPHQL = {**settings.GRAPHQL, "MAX_DEPTH": 2}

    assert error_code(get(client, query=document)) == "QUERY_TOO_DEEP"


# --- Never stored --------------------------------------------------------------------------


def test_responses_with_errors_are_not_stored(client, response_cache, catalog):
    document = '{ product(id: "UHJvZHVjdDox", slug: "product-1") { name } }'

    response = get(client, query=document)

    assert error_code(response) == "INVALID_ARGUMENTS"
    assert response["Cache-Control"] == "no-store"
    assert not response.has_header("ETag")
    assert response_keys(response_cache) == []


def test_mutations_are_never_stored(client, response_cache, django_user_model):
    headers = auth(user_with(django_user_model, "add_category"))
    body = {"query": CREATE_CATEGORY, "variables": {"input": {"name": "Lamps", "slug": "lamps"}}}

    first = post(client, body, **headers)
    second = post(client, body, **headers)

    assert first.json()["data"]["createCategory"]["__typename"] == "Category"
    # It ran again: this time the slug is taken.
    assert second.json()["data"]["createCategory"]["__typename"] == "OperationInfo"
    assert Category.objects.count() == 1
    assert response_keys(response_cache) == []


def test_uploads_are_never_stored(client, response_cache, editor_token):
    upload = "mutation($file: Upload!) { uploadImage(file: $file) { __typename } }"

    response = multipart_upload(
        client, upload, content=make_image_bytes(), Authorization=f"Bearer {editor_token}"
    )

    assert response.json() == {"data": {"uploadImage": {"__typename": "Image"}}}
    assert response_keys(response_cache) == []


def test_private_images_never_enter_the_shared_cache(
    client, response_cache, django_user_model, django_assert_num_queries
):
    product = product_with_images(1)
    secret = stored_image("secret", product=product, is_private=True)
    document = "{ products { edges { node { images { id name url small } } } } }"
    staff = django_user_model.objects.create_user("staff", is_staff=True)
    shopper = django_user_model.objects.create_user("shopper")

    client.force_login(staff)
    seen_by_staff = get(client, query=document)
    with django_assert_num_queries(4):  # session, user, products, images: not from a cache
        get(client, query=document)
    client.logout()
    anonymous = get(client, query=document)
    signed_in = get(client, query=document, **auth(shopper))

    assert "secret" in seen_by_staff.content.decode()
    assert seen_by_staff["Cache-Control"] == "private, no-store"
    assert "secret" not in anonymous.content.decode()
    assert "secret" not in signed_in.content.decode()
    assert len(response_keys(response_cache)) == 2
    for value in stored_bytes(response_cache):
        for private in (secret.name, secret.image.name, secret.image_xs.name, str(secret.pk)):
            assert private.encode() not in value


def test_staff_never_get_the_anonymous_entry(client, response_cache, django_user_model):
    product = product_with_images(1)
    stored_image("secret", product=product, is_private=True)
    document = "{ products { edges { node { images { name } } } } }"
    assert "secret" not in get(client, query=document).content.decode()

    client.force_login(django_user_model.objects.create_user("staff", is_staff=True))
    seen_by_staff = get(client, query=document)

    assert "secret" in seen_by_staff.content.decode()


def test_entries_expire_before_signed_urls_do(client, response_cache, settings, imagekit):
    # ImageKit private files: every URL, public images' too, is signed with an expiry.
    settings.IMAGEKIT_PRIVATE_FILES = True
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "SIGNED_URL_EXPIRE": 600}
    product_with_images(1, images=1)
    conf = graphql_cache_settings()
    margin = 300

    response = get(client, query="{ products { edges { node { images { url } } } } }")

    (key,) = response_keys(response_cache)
    ttl = redis.Redis.from_url(response_cache).ttl(key)
    assert ttl == 600 - margin - conf["MAX_AGE"] - conf["STALE_WHILE_REVALIDATE"]
    url = response.json()["data"]["products"]["edges"][0]["node"]["images"][0]["url"]
    expires = int(parse_qs(urlsplit(url).query)["ik-t"][0])
    # Served from here until `ttl`, then kept by a CDN for max-age + stale-while-revalidate:
    # the URL is still valid `margin` seconds after that.
    latest_use = time.time() + ttl + conf["MAX_AGE"] + conf["STALE_WHILE_REVALIDATE"]
    assert expires - latest_use >= margin - 2


# --- Answered before sessions and authentication (config.graphql_cache.middleware) ----------


def test_anonymous_hit_is_answered_before_sessions_and_authentication(
    client, response_cache, catalog, settings
):
    get(client, query=LISTING)
    # Only the cache middleware and those before it (health, request log, security,
    # static files and renditions) are left to answer.
    index = settings.MIDDLEWARE.index("config.graphql_cache.middleware.CachedResponseMiddleware")
    settings.MIDDLEWARE = settings.MIDDLEWARE[: index + 1]

    response = get(client, query=LISTING)

    assert response.status_code == 200
    assert response.json()["data"]["products"]["totalCount"] == 3
    assert response["Cache-Control"] == "public, max-age=30, stale-while-revalidate=60"
    assert response["Content-Length"] == str(len(response.content))


def test_token_requests_go_to_the_view(client, response_cache, catalog, django_user_model):
    anonymous = get(client, query=LISTING)
    headers = auth(django_user_model.objects.create_user("shopper"))

    signed_in = get(client, query=LISTING, **headers)

    assert signed_in.content == anonymous.content
    assert signed_in["Cache-Control"] == "private, no-store"


def test_malformed_parameters_go_to_the_view(client, response_cache, catalog):
    get(client, query=LISTING)

    response = client.get(
        "/graphql/", {"query": LISTING, "variables": "{"}, headers={"Accept": "application/json"}
    )

    assert response.status_code == 400
    assert error_code(response) == "INVALID_JSON"


def test_unknown_host_is_refused_before_the_cache(client, response_cache, catalog):
    get(client, query=LISTING)

    response = get(client, query=LISTING, Host="evil.example")

    assert response.status_code == 400


# --- HTTP caching --------------------------------------------------------------------------


def test_anonymous_get_is_public_for_max_age(client, settings):
    settings.GRAPHQL_CACHE = {**settings.GRAPHQL_CACHE, "MAX_AGE": 7, "STALE_WHILE_REVALIDATE": 11}

    response = get(client, query="{ categories { name } }")

    assert response["Cache-Control"] == "public, max-age=7, stale-while-revalidate=11"
    assert response["Vary"] == "Authorization, Cookie"
    assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"])


def test_signed_in_get_is_private_no_store(client, django_user_model):
    response = get(
        client,
        query="{ categories { name } }",
        **auth(django_user_model.objects.create_user("shopper")),
    )

    assert response["Cache-Control"] == "private, no-store"
    assert response.has_header("ETag")


def test_hit_answers_if_none_match_with_304_without_sql(
    client, response_cache, catalog, django_assert_num_queries
):
    etag = get(client, query=LISTING)["ETag"]

    with django_assert_num_queries(0):
        response = get(client, query=LISTING, **{"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "public, max-age=30, stale-while-revalidate=60"
    assert response["Vary"] == "Authorization, Cookie"


def test_304_from_the_cache_needs_no_body(
    client, response_cache, catalog, django_assert_num_queries
):
    etag = get(client, query=LISTING)["ETag"]
    _forget_bodies(response_cache)

    with django_assert_num_queries(0):
        response = get(client, query=LISTING, **{"If-None-Match": etag})

    assert response.status_code == 304


def test_body_gone_before_its_entry_runs_the_query_again(client, response_cache, catalog):
    with CaptureQueriesContext(connection) as executed:
        first = get(client, query=LISTING)
    _forget_bodies(response_cache)

    with CaptureQueriesContext(connection) as again_executed:
        again = get(client, query=LISTING)

    assert len(again_executed) == len(executed) == 2  # products, their images
    assert again.status_code == 200
    assert again.content == first.content
    assert recent_bodies.get(again["ETag"].strip('"')) == first.content


def test_a_process_keeps_bodies_it_served(
    client, response_cache, catalog, django_assert_num_queries
):
    first = get(client, query=LISTING)
    client_redis = redis.Redis.from_url(response_cache)
    for key in client_redis.scan_iter("*graphql:body:*"):
        client_redis.delete(key)

    # The entry still names the body, which this process has at hand.
    with django_assert_num_queries(0):
        assert get(client, query=LISTING).content == first.content


def test_recent_bodies_are_bounded_in_bytes():
    bodies = RecentBodies(max_bytes=10)
    bodies.put("a", b"12345")
    bodies.put("b", b"12345")
    assert bodies.get("a") == b"12345"  # now the most recent

    bodies.put("c", b"123")
    bodies.put("huge", b"x" * 11)

    assert bodies.get("b") is None
    assert bodies.get("a") == b"12345"
    assert bodies.get("c") == b"123"
    assert bodies.get("huge") is None


def _forget_bodies(redis_url: str) -> None:
    """Drop every body, here and in the shared cache; the entries stay."""
    recent_bodies.clear()
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("*graphql:body:*"):
        client.delete(key)


def test_miss_answers_if_none_match_with_304_too(client, catalog):
    etag = get(client, query=LISTING)["ETag"]

    response = get(client, query=LISTING, **{"If-None-Match": etag})

    assert response.status_code == 304


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("{etag}", 304),
        ("W/{etag}", 304),
        ('"other", {etag}', 304),
        ("*", 304),
        ('"other"', 200),
        ("garbage", 200),
    ],
)
def test_if_none_match_forms(client, header, status):
    etag = get(client, query="{ categories { name } }")["ETag"]

    response = get(
        client, query="{ categories { name } }", **{"If-None-Match": header.format(etag=etag)}
    )

    assert response.status_code == status


def test_etag_changes_with_the_data(client):
    etag = get(client, query="{ categories { name } }")["ETag"]
    Category.objects.create(name="New", slug="new")

    response = get(client, query="{ categories { name } }", **{"If-None-Match": etag})

    assert response.status_code == 200
    assert response["ETag"] != etag


# --- Settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"NOPE": 1}, "Unknown GRAPHQL_CACHE option"),
        ({"PERSISTED_QUERIES_ONLY": "yes"}, "must be True or False"),
        ({"MAX_PERSISTED_QUERY_BYTES": 0}, "must be a positive integer"),
        ({"RESPONSE_CACHE_SECONDS": -1}, "must be 0 or more seconds"),
        ({"MAX_AGE": 3000, "STALE_WHILE_REVALIDATE": 301}, "at most 3300 s together"),
    ],
)
def test_invalid_settings_are_refused(settings, options, message):
    settings.GRAPHQL_CACHE = {**settings.GRAPHQL_CACHE, **options}

    with pytest.raises(ImproperlyConfigured, match=message):
        graphql_cache_settings()


def test_response_lifetime_is_bounded_by_the_shortest_signed_url(settings, response_cache):
    settings.MEDIA_STORE = {**settings.MEDIA_STORE, "SIGNED_URL_EXPIRE": 600}

    assert response_cache_seconds() == 600 - 300 - 30 - 60
