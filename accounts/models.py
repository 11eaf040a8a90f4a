from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

TOKEN_PREFIX = "cat_"


def hash_token(token: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is enough: there is
    # nothing to brute-force that a slow password hash would protect.
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def create_token(self, user, *, name: str = "") -> tuple[ApiToken, str]:
        """Create a token for ``user``; return it with its clear text, shown only once."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = self.create(user=user, name=name, key_hash=hash_token(raw), key_prefix=raw[:12])
        return token, raw

    def get_by_raw(self, raw: str) -> ApiToken:
        return self.select_related("user").get(key_hash=hash_token(raw), user__is_active=True)


class ApiToken(models.Model):
    """A bearer token for API clients; only its SHA-256 hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name="user",
    )
    name = models.CharField("name", max_length=100, blank=True)
    key_prefix = models.CharField(
        "key prefix", max_length=12, help_text="First characters, to recognise a token."
    )
    key_hash = models.CharField("key hash", max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("created at", auto_now_add=True)
    last_used_at = models.DateTimeField("last used at", null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        verbose_name_plural = "API tokens"
        ordering = ("-created_at", "pk")

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.user})"
