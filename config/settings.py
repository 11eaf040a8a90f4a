"""Django settings, read once from the environment through django-environ.

A `.env` file at the project root is optional; variables already set in the
OS environment win over it. `.env.example` lists every variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from appsettings import UNSET, given
from media_store.selection import select_storages

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
# SQLite cannot create its parent folder, and a fresh clone has no var/;
# WhiteNoise warns on every start while STATIC_ROOT is missing.
(VAR_DIR / "static").mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core ------------------------------------------------------------------

# No default: a deployment without a secret key must not start.
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS and proxies -----------------------------------------------------

# Off by default for local HTTP; README "Deployment" turns them on.
# The header a TLS-terminating proxy sets to "https" (e.g. X-Forwarded-Proto); it
# must overwrite what clients send. Empty: requests are as secure as they arrive.
if proxy_ssl_header := env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = (f"HTTP_{proxy_ssl_header.upper().replace('-', '_')}", "https")
USE_X_FORWARDED_HOST = env.bool("DJANGO_USE_X_FORWARDED_HOST", default=False)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "strawberry_django",
    "axes",
    # Drag-and-drop ordering of a product's images in the admin.
    "adminsortable2",
    "accounts",
    "media_store",
    "catalog",
    # Persisted queries and the response cache of the GraphQL endpoint.
    "config.graphql_cache",
]

MIDDLEWARE = [
    # /healthz and /readyz, before anything reads the Host header (ALLOWED_HOSTS).
    "ops.health.HealthMiddleware",
    # Request id, and one log line per request.
    "ops.requestlog.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Cached renditions and cached anonymous GraphQL GETs are answered here,
    # before sessions, auth and CSRF.
    "media_store.middleware.CachedRenditionMiddleware",
    "config.graphql_cache.middleware.CachedResponseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.ApiTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent uploads write at once: take the write lock when a transaction
    # starts and wait for it, instead of failing with "database is locked".
    sqlite_options = DATABASES["default"].setdefault("OPTIONS", {})
    sqlite_options.setdefault("timeout", 20)
    sqlite_options.setdefault("transaction_mode", "IMMEDIATE")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Each server thread keeps its connection between requests: opening one costs
    # the app and PostgreSQL a few ms of CPU, as much as the rest of a small request
    # (docs/benchmarks.md, "Uploads"). Checked before reuse, so a restarted database
    # costs no failed request. ``?conn_max_age=`` in the URL wins; 0 closes after each.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Reads are public: no statement may hold a connection longer than this (ms,
    # 0 turns it off, e.g. for a long migration). Cancelled statements become a
    # QUERY_TIMEOUT error.
    statement_timeout = env.int("DATABASE_STATEMENT_TIMEOUT", default=5000)
    if statement_timeout:
        pg_options = DATABASES["default"].setdefault("OPTIONS", {})
        pg_options["options"] = (
            f"{pg_options.get('options', '')} -c statement_timeout={statement_timeout}".strip()
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication --------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username/IP before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading a user's permissions in one query.
    "accounts.backends.OneQueryModelBackend",
]
# Login throttling (django-axes): after this many failed logins for one username
# from one IP, further attempts get 429 until the cool-off passes.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Never log the password field's value.
AXES_SENSITIVE_PARAMETERS = ["password"]
# No start-up banner; lockouts are still logged.
AXES_VERBOSE = False
# Behind proxies the client is not REMOTE_ADDR. Read it from the header they append
# to (HTTP_X_FORWARDED_FOR,REMOTE_ADDR) and say how many proxy addresses follow the
# client's there: 0 behind one proxy, 1 behind two. The client is then the address
# the outermost proxy wrote, whatever a client put before it (django-ipware, not strict).
AXES_IPWARE_META_PRECEDENCE_ORDER = env.list(
    "AXES_IPWARE_META_PRECEDENCE_ORDER", default=["REMOTE_ADDR"]
)
AXES_IPWARE_PROXY_COUNT = env.int("AXES_IPWARE_PROXY_COUNT", default=None)
IPWARE_STRICT = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation --------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files and media ------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# GraphiQL's scripts are served from here, so the IDE works without a CDN.
STATICFILES_DIRS = [BASE_DIR / "config" / "static"]
# Serve straight from the apps' and STATICFILES_DIRS' folders, so the admin
# and GraphiQL work without `collectstatic`.
WHITENOISE_USE_FINDERS = True

MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media/"

# Absolute base that clients use to reach this server; the embedded media
# storage builds its CDN-style URLs on it.
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")
SITE_URL = SITE_URL.rstrip("/")

# Uploads larger than this spill to a temporary file instead of memory, so a
# request never holds a whole large image.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Image storage ---------------------------------------------------------

IMAGEKIT_PRIVATE_KEY = env.str("IMAGEKIT_PRIVATE_KEY", default="")
IMAGEKIT_PUBLIC_KEY = env.str("IMAGEKIT_PUBLIC_KEY", default="")
IMAGEKIT_URL_ENDPOINT = env.str("IMAGEKIT_URL_ENDPOINT", default="")
# Another API server, e.g. the local emulator (`manage.py imagekit_server`).
IMAGEKIT_API_BASE_URL = env.str("IMAGEKIT_API_BASE_URL", default="")
IMAGEKIT_FOLDER = env.str("IMAGEKIT_FOLDER", default="catalog")
IMAGEKIT_TAGS = env.list("IMAGEKIT_TAGS", default=[])
IMAGEKIT_PRIVATE_FILES = env.bool("IMAGEKIT_PRIVATE_FILES", default=False)
IMAGEKIT_UPLOAD_TIMEOUT = env.float("IMAGEKIT_UPLOAD_TIMEOUT", default=60.0)
IMAGEKIT_MAX_RETRIES = env.int("IMAGEKIT_MAX_RETRIES", default=2)

STORAGES = select_storages(
    imagekit={
        "IMAGEKIT_PRIVATE_KEY": IMAGEKIT_PRIVATE_KEY,
        "IMAGEKIT_PUBLIC_KEY": IMAGEKIT_PUBLIC_KEY,
        "IMAGEKIT_URL_ENDPOINT": IMAGEKIT_URL_ENDPOINT,
    },
)

# media_store's options; defaults in media_store.conf. As for every app's options
# below, only those whose variable is set are given (appsettings.given): the
# app's default applies to the others, so no default is written twice.
MEDIA_STORE = given(
    MAX_OUTPUT_SIDE=env.int("MEDIA_MAX_OUTPUT_SIDE", UNSET),
    MAX_SOURCE_PIXELS=env.int("MEDIA_MAX_SOURCE_PIXELS", UNSET),
    # Unset: a `renditions` folder next to MEDIA_ROOT.
    RENDITION_CACHE_DIR=env.str("MEDIA_RENDITION_CACHE_DIR", UNSET),
    RENDITION_CACHE_MAX_BYTES=env.int("MEDIA_RENDITION_CACHE_MAX_BYTES", UNSET),
    # Private files' signed URLs, on the local storage and on ImageKit alike.
    SIGNED_URL_EXPIRE=env.int("MEDIA_SIGNED_URL_EXPIRE", UNSET),
    # The render budget and limiter, measured in bench/bench_render_budget.py.
    MAX_CHAIN_STEPS=env.int("MEDIA_MAX_CHAIN_STEPS", UNSET),
    MAX_RENDER_WORK=env.int("MEDIA_MAX_RENDER_WORK", UNSET),
    MAX_RENDER_MEMORY=env.int("MEDIA_MAX_RENDER_MEMORY", UNSET),
    # Unset: the cores (at most 4) shared among the host's server processes.
    MAX_CONCURRENT_RENDERS=env.int("MEDIA_MAX_CONCURRENT_RENDERS", UNSET),
    # gunicorn's workers (config/gunicorn.py exports the number it runs); unset: 1.
    SERVER_PROCESSES=env.int("WEB_CONCURRENCY", UNSET),
    RENDER_QUEUE_TIMEOUT=env.float("MEDIA_RENDER_QUEUE_TIMEOUT", UNSET),
    # Presets also created in the ImageKit dashboard: ImageKit URLs name them
    # (n-<name>); other presets reach ImageKit written out as their steps.
    IMAGEKIT_NAMED_PRESETS=env.list("IMAGEKIT_NAMED_PRESETS", default=UNSET),
)
if "IMAGEKIT_SIGNED_URL_EXPIRE" in env:
    # Renamed when the local storage's lifetime became the same setting.
    raise ImproperlyConfigured(
        "IMAGEKIT_SIGNED_URL_EXPIRE is now MEDIA_SIGNED_URL_EXPIRE (both storages): rename it."
    )

# --- Catalog ---------------------------------------------------------------

# Defaults in catalog.conf.
CATALOG = given(
    MAX_UPLOAD_BYTES=env.int("CATALOG_MAX_UPLOAD_BYTES", UNSET),
    MAX_UPLOAD_PIXELS=env.int("CATALOG_MAX_UPLOAD_PIXELS", UNSET),
    SMALL_VARIANT_SIZE=env.int("CATALOG_SMALL_VARIANT_SIZE", UNSET),
    UPLOAD_QUEUE_TIMEOUT=env.float("CATALOG_UPLOAD_QUEUE_TIMEOUT", UNSET),
    MAX_SRCSET_WIDTHS=env.int("CATALOG_MAX_SRCSET_WIDTHS", UNSET),
    SNAP_WIDTHS=env.list("CATALOG_SNAP_WIDTHS", cast=int, default=UNSET),
    ANONYMOUS_PRESETS_ONLY=env.bool("CATALOG_ANONYMOUS_PRESETS_ONLY", UNSET),
)

# --- Cache -----------------------------------------------------------------

# Local memory (one per process) unless CACHE_URL names a shared one, e.g.
# redis://127.0.0.1:6379/0, which every app server then shares.
CACHE_URL = env.str("CACHE_URL", default="locmemcache://")
CACHES = {
    "default": env.cache_url_config(
        CACHE_URL,
        # Django's own Redis backend (with its clients reused: config.redis_cache),
        # whatever else is installed (django-environ would pick django-redis if present).
        backend="config.redis_cache.RedisCache"
        if CACHE_URL.startswith(("redis://", "rediss://", "rediscache://"))
        else None,
    ),
}

# --- Health ----------------------------------------------------------------

# /readyz: how long ImageKit's API may take to answer, and for how many seconds
# the storage check's answer is reused (defaults in ops.health).
READYZ = given(
    STORAGE_TIMEOUT=env.float("READYZ_STORAGE_TIMEOUT", UNSET),
    CACHE_SECONDS=env.float("READYZ_CACHE_SECONDS", UNSET),
)

# --- Logging ---------------------------------------------------------------

# Every line carries the request id (ops.logs); LOG_FORMAT=json writes one
# JSON object per line, each field of the request line its own key.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "ops.logs.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "ops.logs.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # httpx logs every request of the ImageKit SDK at INFO.
    "loggers": {"httpx": {"level": "WARNING"}},
}

# --- GraphQL ---------------------------------------------------------------

# Safety limits of the API; their meaning, defaults and the cost model are
# documented in graphql_limits. Refused queries get an error naming the option.
GRAPHQL = given(
    MAX_DEPTH=env.int("GRAPHQL_MAX_DEPTH", UNSET),
    MAX_ALIASES=env.int("GRAPHQL_MAX_ALIASES", UNSET),
    MAX_TOKENS=env.int("GRAPHQL_MAX_TOKENS", UNSET),
    MAX_COST=env.int("GRAPHQL_MAX_COST", UNSET),
    MAX_LIST_LENGTH=env.int("GRAPHQL_MAX_LIST_LENGTH", UNSET),
    MAX_INPUT_DEPTH=env.int("GRAPHQL_MAX_INPUT_DEPTH", UNSET),
    MAX_INPUT_VALUES=env.int("GRAPHQL_MAX_INPUT_VALUES", UNSET),
    MAX_STRING_LENGTH=env.int("GRAPHQL_MAX_STRING_LENGTH", UNSET),
    DEFAULT_PAGE_SIZE=env.int("GRAPHQL_DEFAULT_PAGE_SIZE", UNSET),
    MAX_PAGE_SIZE=env.int("GRAPHQL_MAX_PAGE_SIZE", UNSET),
    DEFAULT_LIST_SIZE=env.int("GRAPHQL_DEFAULT_LIST_SIZE", UNSET),
    # Unexpected errors read "Unexpected error." (the traceback is logged).
    MASK_ERRORS=env.bool("GRAPHQL_MASK_ERRORS", UNSET),
    # Turn off in production to refuse `__schema` and `__type` queries.
    INTROSPECTION=env.bool("GRAPHQL_INTROSPECTION", UNSET),
)

# Persisted queries and the response cache; defaults and meaning in
# config.graphql_cache.conf (README, "Persisted queries and caching").
GRAPHQL_CACHE = given(
    # Allow-list mode: only documents registered with `manage.py register_persisted_queries`.
    PERSISTED_QUERIES_ONLY=env.bool("GRAPHQL_PERSISTED_QUERIES_ONLY", UNSET),
    MAX_PERSISTED_QUERY_BYTES=env.int("GRAPHQL_MAX_PERSISTED_QUERY_BYTES", UNSET),
    # 0 turns the response cache off; it also needs a shared cache (CACHE_URL=redis://...).
    RESPONSE_CACHE_SECONDS=env.int("GRAPHQL_RESPONSE_CACHE_SECONDS", UNSET),
    # Cache-Control of anonymous GET responses.
    MAX_AGE=env.int("GRAPHQL_CACHE_MAX_AGE", UNSET),
    STALE_WHILE_REVALIDATE=env.int("GRAPHQL_CACHE_STALE_WHILE_REVALIDATE", UNSET),
)
