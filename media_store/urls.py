"""Delivery URLs, mounted at MEDIA_URL by ``config.urls``.

``tr:<chain>/<path>`` and ``<path>?tr=<chain>`` serve a transformation of
``<path>``; a bare ``<path>`` serves the stored bytes.
"""

from __future__ import annotations

from django.urls import path, re_path

from media_store import views

app_name = "media_store"

urlpatterns = [
    re_path(r"^tr:(?P<chain>[^/]*)/(?P<path>.+)$", views.serve, name="transformed"),
    path("<path:path>", views.serve, name="file"),
]
