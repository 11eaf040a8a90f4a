"""Delivery URLs, mounted at MEDIA_URL by ``config.urls``.

``tr:<chain>/<path>`` and ``<path>?tr=<chain>`` serve a transformation of
``<path>``; a bare ``<path>`` serves the stored bytes. Every path under
MEDIA_URL, even one no file can have, reaches the view, so each refusal is
the CDN's JSON error rather than Django's HTML page; the view parses the
request itself (media_store.cdn.request), the same way the cached-rendition
middleware does.
"""

from __future__ import annotations

from django.urls import re_path

from media_store import views

app_name = "media_store"

# [\s\S]: a newline (%0A) in a path is still a path, refused by the view as JSON.
urlpatterns = [
    re_path(r"^tr:(?P<chain>[^/]*)/(?P<path>[\s\S]+)\Z", views.serve, name="transformed"),
    re_path(r"^(?P<path>[\s\S]*)\Z", views.serve, name="file"),
]
