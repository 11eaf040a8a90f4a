"""config/settings.py read from the environment: deployment, cache, logs, proxies."""

from __future__ import annotations

import os
import re
import runpy
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

BASE_DIR = Path(__file__).resolve().parent.parent
SETTINGS = BASE_DIR / "config" / "settings.py"
README = BASE_DIR / "README.md"
# The README marks its production environment block for this test.
PRODUCTION_ENV_MARKER = (
    "<!-- production-env: tests/test_settings.py runs check --deploy with it -->"
)


def load_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """Run config/settings.py with ``env`` on top of the test's environment; its names."""
    monkeypatch.setenv("DJANGO_SECRET_KEY", "test-settings-key")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    saved = dict(os.environ)  # a developer's .env must not leak into other tests
    try:
        return runpy.run_path(str(SETTINGS), run_name="settings_under_test")
    finally:
        os.environ.clear()
        os.environ.update(saved)


def production_env() -> dict[str, str]:
    """README's production environment, with a fresh secret where it shows a placeholder."""
    text = README.read_text()
    start = text.index(PRODUCTION_ENV_MARKER)
    block = re.search(r"```sh\n(.*?)```", text[start:], re.DOTALL)
    assert block, "README: no ```sh block after the production-env marker"
    env = {}
    for line in block.group(1).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        env[name] = secrets.token_urlsafe(50) if value.startswith("<") else value
    return env


def run_check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=BASE_DIR,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- deployment --------------------------------------------------------------


def test_check_deploy_production_env_reports_no_issues():
    result = run_check_deploy(production_env())

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_defaults_warn_about_https():
    # The defaults suit local HTTP; check --deploy says what production must set.
    result = run_check_deploy({"DJANGO_SECRET_KEY": secrets.token_urlsafe(50)})

    output = result.stdout + result.stderr
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in output


def test_https_settings_default_off(monkeypatch):
    loaded = load_settings(monkeypatch)

    assert "SECURE_PROXY_SSL_HEADER" not in loaded
    assert loaded["SECURE_SSL_REDIRECT"] is False
    assert loaded["SECURE_HSTS_SECONDS"] == 0
    assert loaded["SESSION_COOKIE_SECURE"] is False
    assert loaded["CSRF_COOKIE_SECURE"] is False
    assert loaded["USE_X_FORWARDED_HOST"] is False


def test_https_settings_from_environment(monkeypatch):
    loaded = load_settings(
        monkeypatch,
        DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        DJANGO_SECURE_SSL_REDIRECT="true",
        DJANGO_SECURE_HSTS_SECONDS="31536000",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        DJANGO_SECURE_HSTS_PRELOAD="true",
        DJANGO_SESSION_COOKIE_SECURE="true",
        DJANGO_CSRF_COOKIE_SECURE="true",
        DJANGO_USE_X_FORWARDED_HOST="true",
    )

    assert loaded["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert loaded["SECURE_SSL_REDIRECT"] is True
    assert loaded["SECURE_HSTS_SECONDS"] == 31536000
    assert loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert loaded["SECURE_HSTS_PRELOAD"] is True
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["USE_X_FORWARDED_HOST"] is True


def test_site_url_follows_port(monkeypatch):
    monkeypatch.delenv("SITE_URL", raising=False)

    assert load_settings(monkeypatch, PORT="8123")["SITE_URL"] == "http://127.0.0.1:8123"
    assert load_settings(monkeypatch, PORT="8123", SITE_URL="https://shop.example/")[
        "SITE_URL"
    ] == ("https://shop.example")


# --- logs --------------------------------------------------------------------


@pytest.mark.parametrize(("value", "formatter"), [("text", "text"), ("json", "json")])
def test_log_format_picks_formatter(monkeypatch, value, formatter):
    loaded = load_settings(monkeypatch, LOG_FORMAT=value)

    assert loaded["LOGGING"]["handlers"]["console"]["formatter"] == formatter


def test_log_format_unknown_refused(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        load_settings(monkeypatch, LOG_FORMAT="xml")


# --- database ----------------------------------------------------------------

PG_URL = "postgres://catalog:secret@db.internal:5432/catalog"


def test_postgres_connections_kept_between_requests_and_checked(monkeypatch):
    monkeypatch.delenv("DATABASE_CONN_MAX_AGE", raising=False)

    database = load_settings(monkeypatch, DATABASE_URL=PG_URL)["DATABASES"]["default"]

    assert database["CONN_MAX_AGE"] == 60
    assert database["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        (PG_URL, {"DATABASE_CONN_MAX_AGE": "0"}, 0),  # one connection per request
        (PG_URL, {"DATABASE_CONN_MAX_AGE": "300"}, 300),
        (PG_URL + "?conn_max_age=5", {"DATABASE_CONN_MAX_AGE": "300"}, 5),  # the URL wins
    ],
)
def test_postgres_connection_age_from_environment(monkeypatch, url, env, expected):
    database = load_settings(monkeypatch, DATABASE_URL=url, **env)["DATABASES"]["default"]

    assert database["CONN_MAX_AGE"] == expected


def test_sqlite_keeps_djangos_connection_per_request(monkeypatch, tmp_path):
    database = load_settings(monkeypatch, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")[
        "DATABASES"
    ]["default"]

    assert "CONN_MAX_AGE" not in database  # Django's default, 0


# --- cache -------------------------------------------------------------------


def test_cache_url_default_is_local_memory(monkeypatch):
    monkeypatch.delenv("CACHE_URL", raising=False)

    backend = load_settings(monkeypatch)["CACHES"]["default"]["BACKEND"]

    assert backend == "django.core.cache.backends.locmem.LocMemCache"


def test_cache_url_redis_uses_djangos_backend(monkeypatch):
    caches = load_settings(monkeypatch, CACHE_URL="redis://127.0.0.1:6390/2")["CACHES"]

    # Django's backend, reusing its redis-py clients (config.redis_cache).
    assert caches["default"] == {
        "BACKEND": "config.redis_cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6390/2",
    }


@pytest.fixture
def redis_cache(settings, redis_url):
    """The project's cache on this run's redis-server, configured as CACHE_URL would."""
    settings.CACHES = {
        "default": {"BACKEND": "config.redis_cache.RedisCache", "LOCATION": redis_url}
    }
    cache.clear()
    yield cache
    cache.clear()


def test_redis_cache_keeps_values(redis_cache):
    redis_cache.set("answer", {"value": 42}, timeout=30)
    redis_cache.set("hits", 1)
    redis_cache.incr("hits")

    assert redis_cache.get("answer") == {"value": 42}
    assert redis_cache.get("hits") == 2
    assert redis_cache.add("answer", "other") is False


def test_redis_cache_reuses_its_client(redis_cache):
    client = redis_cache._cache.get_client()

    assert redis_cache._cache.get_client(write=True) is client
    assert isinstance(client, redis.Redis)


def test_redis_cache_shared_between_processes(redis_cache, redis_url):
    # given: another Django process (another app server) with CACHE_URL
    code = (
        "import django; django.setup(); from django.core.cache import cache; "
        "cache.set('shared-key', 'from-another-server', 30)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "test-settings-key",
        "CACHE_URL": redis_url,
    }
    # when: it writes a key
    subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=env, check=True, timeout=60)

    # then: this process reads it
    assert redis_cache.get("shared-key") == "from-another-server"


# --- login throttling behind proxies -------------------------------------------


def test_axes_ip_defaults_to_remote_addr(monkeypatch):
    loaded = load_settings(monkeypatch)

    assert loaded["AXES_IPWARE_META_PRECEDENCE_ORDER"] == ["REMOTE_ADDR"]
    assert loaded["AXES_IPWARE_PROXY_COUNT"] is None


@pytest.mark.parametrize(
    ("forwarded_for", "proxy_count", "client"),
    [
        ("203.0.113.9", 0, "203.0.113.9"),  # one proxy appended the client
        ("198.51.100.66, 203.0.113.9", 0, "203.0.113.9"),  # the client forged one in front
        ("203.0.113.9, 192.0.2.10", 1, "203.0.113.9"),  # a CDN, then the load balancer
        (None, 0, "10.0.0.5"),  # straight to the server: REMOTE_ADDR
    ],
)
def test_axes_client_ip_behind_proxies(settings, forwarded_for, proxy_count, client):
    from axes.helpers import get_client_ip_address

    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    settings.AXES_IPWARE_PROXY_COUNT = proxy_count
    meta = {"REMOTE_ADDR": "10.0.0.5"}
    if forwarded_for:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for

    assert get_client_ip_address(RequestFactory().post("/admin/login/", **meta)) == client


def test_axes_settings_from_environment(monkeypatch):
    loaded = load_settings(
        monkeypatch,
        AXES_IPWARE_META_PRECEDENCE_ORDER="HTTP_X_FORWARDED_FOR,REMOTE_ADDR",
        AXES_IPWARE_PROXY_COUNT="0",
    )

    assert loaded["AXES_IPWARE_META_PRECEDENCE_ORDER"] == ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    assert loaded["AXES_IPWARE_PROXY_COUNT"] == 0


# --- the apps' options -----------------------------------------------------------

# Each app setting: every variable that sets one of its options, its value in the
# environment, and the option it becomes.
APP_OPTIONS_FROM_ENV = {
    "GRAPHQL": {
        "GRAPHQL_MAX_DEPTH": ("7", "MAX_DEPTH", 7),
        "GRAPHQL_MAX_ALIASES": ("8", "MAX_ALIASES", 8),
        "GRAPHQL_MAX_TOKENS": ("900", "MAX_TOKENS", 900),
        "GRAPHQL_MAX_COST": ("1000", "MAX_COST", 1000),
        "GRAPHQL_MAX_LIST_LENGTH": ("50", "MAX_LIST_LENGTH", 50),
        "GRAPHQL_MAX_INPUT_DEPTH": ("5", "MAX_INPUT_DEPTH", 5),
        "GRAPHQL_MAX_INPUT_VALUES": ("300", "MAX_INPUT_VALUES", 300),
        "GRAPHQL_MAX_STRING_LENGTH": ("2000", "MAX_STRING_LENGTH", 2000),
        "GRAPHQL_DEFAULT_PAGE_SIZE": ("10", "DEFAULT_PAGE_SIZE", 10),
        "GRAPHQL_MAX_PAGE_SIZE": ("50", "MAX_PAGE_SIZE", 50),
        "GRAPHQL_DEFAULT_LIST_SIZE": ("5", "DEFAULT_LIST_SIZE", 5),
        "GRAPHQL_MASK_ERRORS": ("false", "MASK_ERRORS", False),
        "GRAPHQL_INTROSPECTION": ("false", "INTROSPECTION", False),
    },
    "CATALOG": {
        "CATALOG_MAX_UPLOAD_BYTES": ("1000000", "MAX_UPLOAD_BYTES", 1_000_000),
        "CATALOG_MAX_UPLOAD_PIXELS": ("2000000", "MAX_UPLOAD_PIXELS", 2_000_000),
        "CATALOG_SMALL_VARIANT_SIZE": ("200", "SMALL_VARIANT_SIZE", 200),
        "CATALOG_UPLOAD_QUEUE_TIMEOUT": ("2.5", "UPLOAD_QUEUE_TIMEOUT", 2.5),
        "CATALOG_MAX_SRCSET_WIDTHS": ("4", "MAX_SRCSET_WIDTHS", 4),
        "CATALOG_SNAP_WIDTHS": ("640,320,640", "SNAP_WIDTHS", (320, 640)),
        "CATALOG_ANONYMOUS_PRESETS_ONLY": ("true", "ANONYMOUS_PRESETS_ONLY", True),
    },
    "MEDIA_STORE": {
        "MEDIA_MAX_OUTPUT_SIDE": ("2000", "MAX_OUTPUT_SIDE", 2000),
        "MEDIA_MAX_SOURCE_PIXELS": ("1000000", "MAX_SOURCE_PIXELS", 1_000_000),
        "MEDIA_RENDITION_CACHE_DIR": ("/srv/renditions", "RENDITION_CACHE_DIR", "/srv/renditions"),
        "MEDIA_RENDITION_CACHE_MAX_BYTES": ("1000", "RENDITION_CACHE_MAX_BYTES", 1000),
        "MEDIA_SIGNED_URL_EXPIRE": ("600", "SIGNED_URL_EXPIRE", 600),
        "MEDIA_MAX_CHAIN_STEPS": ("3", "MAX_CHAIN_STEPS", 3),
        "MEDIA_MAX_RENDER_WORK": ("1000", "MAX_RENDER_WORK", 1000),
        "MEDIA_MAX_RENDER_MEMORY": ("1000", "MAX_RENDER_MEMORY", 1000),
        "MEDIA_MAX_CONCURRENT_RENDERS": ("3", "MAX_CONCURRENT_RENDERS", 3),
        "MEDIA_RENDER_QUEUE_TIMEOUT": ("1.5", "RENDER_QUEUE_TIMEOUT", 1.5),
        "WEB_CONCURRENCY": ("4", "SERVER_PROCESSES", 4),
    },
    "READYZ": {
        "READYZ_STORAGE_TIMEOUT": ("0.5", "STORAGE_TIMEOUT", 0.5),
        "READYZ_CACHE_SECONDS": ("0", "CACHE_SECONDS", 0.0),
    },
}


def app_settings(setting: str):
    from catalog.conf import catalog_settings
    from graphql_limits.conf import graphql_settings
    from media_store.conf import media_store_settings
    from ops.health import readyz_settings

    return {
        "GRAPHQL": graphql_settings,
        "CATALOG": catalog_settings,
        "MEDIA_STORE": media_store_settings,
        "READYZ": readyz_settings,
    }[setting]


@pytest.mark.parametrize("setting", APP_OPTIONS_FROM_ENV)
def test_app_options_unset_variables_leave_the_app_defaults(monkeypatch, setting):
    for name in APP_OPTIONS_FROM_ENV[setting]:
        monkeypatch.delenv(name, raising=False)

    assert load_settings(monkeypatch)[setting] == {}


@pytest.mark.parametrize("setting", APP_OPTIONS_FROM_ENV)
def test_app_options_from_environment(monkeypatch, settings, setting):
    variables = APP_OPTIONS_FROM_ENV[setting]

    loaded = load_settings(monkeypatch, **{name: raw for name, (raw, _, _) in variables.items()})
    setattr(settings, setting, loaded[setting])

    read = app_settings(setting)()
    assert {option: read[option] for _, option, _ in variables.values()} == {
        option: value for _, option, value in variables.values()
    }


def test_app_options_every_graphql_catalog_and_readyz_option_has_a_variable():
    for setting in ("GRAPHQL", "CATALOG", "READYZ"):
        options = {option for _, option, _ in APP_OPTIONS_FROM_ENV[setting].values()}
        assert options == set(app_settings(setting).defaults), setting


def test_old_signed_url_variable_refused_with_its_new_name(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="MEDIA_SIGNED_URL_EXPIRE"):
        load_settings(monkeypatch, IMAGEKIT_SIGNED_URL_EXPIRE="600")


def test_env_example_lists_every_variable_settings_read():
    read = set(re.findall(r"""env\.\w+\(\s*["']([A-Z][A-Z0-9_]*)["']""", SETTINGS.read_text()))
    listed = set(
        re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", (BASE_DIR / ".env.example").read_text(), re.M)
    )

    assert read - listed == set()
