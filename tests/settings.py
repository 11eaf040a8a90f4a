"""Settings for the test suite: the project's settings with test-only values."""

import os

# Tests need a key; a real deployment must provide its own (config.settings has no default).
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
