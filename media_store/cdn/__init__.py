"""The local CDN's request path, shared by the cached-rendition middleware and the view.

``request`` parses and authorises a CDN URL (one parser, so a rule is written
once), ``renditions`` is the rendition cache (keys, lookup, writes, LRU
eviction under a size cap), and ``errors`` turns every refusal into a JSON 4xx (or 503).
"""
