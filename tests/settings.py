"""Settings for the test suite: the project's settings with test-only values."""

import os

# Tests need a key; a real deployment must provide its own (config.settings has no default).
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The response cache is on only in the tests about it (tests/graphql_cache): the
# others count the SQL of the work itself, and roll their writes back, which
# never commit and so never invalidate anything.
GRAPHQL_CACHE = {**GRAPHQL_CACHE, "RESPONSE_CACHE_SECONDS": 0}  # noqa: F405
