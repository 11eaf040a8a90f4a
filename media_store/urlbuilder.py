"""Build ImageKit-style delivery URLs: ``<endpoint>/tr:<chain>/<path>``.

Serves both backends: ImageKit's URL endpoint and the embedded local CDN.
"""

from __future__ import annotations

from urllib.parse import quote

from media_store.grammar import Transformation

_SAFE = "/:@!$&'()*+,;=-._~"


class UrlBuilder:
    def __init__(self, url_endpoint: str, private_key: str | None = None) -> None:
        self.url_endpoint = url_endpoint.rstrip("/")
        self.private_key = private_key

    def build(self, src: str, transformation: Transformation | None = None) -> str:
        path = quote(src.lstrip("/"), safe=_SAFE)
        if transformation:
            return f"{self.url_endpoint}/tr:{transformation}/{path}"
        return f"{self.url_endpoint}/{path}"
