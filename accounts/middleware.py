"""Bearer-token authentication for API clients."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from accounts.models import ApiToken

logger = logging.getLogger(__name__)

# A token's last use is kept to the minute: writing it on every request would make
# every API call a write, and simultaneous calls with one token queue on its row.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenMiddleware:
    """Authenticate ``Authorization: Bearer <token>`` requests.

    A token-authenticated request is exempt from CSRF checks: browsers never
    attach this header on their own, so a forged cross-site request cannot carry it.
    A header with a wrong token is refused outright rather than treated as
    anonymous, so a client with a revoked token finds out at once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() == "bearer":
            try:
                token = ApiToken.objects.get_by_raw(raw.strip())
            except ApiToken.DoesNotExist:
                logger.info("Rejected an unknown or revoked API token")
                return JsonResponse(
                    {"errors": [{"message": "Invalid or revoked API token."}]},
                    status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="api"'},
                )
            request.user = token.user
            request.auth_token = token
            request._dont_enforce_csrf_checks = True
            now = timezone.now()
            if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
                ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return self.get_response(request)
