"""``code`` of the catalog's validation errors, as clients see them in ``OperationInfo``.

Django's own model-validation codes (``unique``, ``blank``, ``max_length``...) pass
through as Django names them; these are the catalog's. Tests compare codes, not text.
"""

from __future__ import annotations

import enum


class CatalogErrorCode(enum.StrEnum):
    # IDs and lookups
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    NULL = "null"
    # Uploads
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    INVALID_IMAGE = "invalid_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    TOO_MANY_PIXELS = "too_many_pixels"
    NOT_A_FILE = "not_a_file"
    PRIVATE_NOT_ALLOWED = "private_not_allowed"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    BUSY = "busy"
    IMAGEKIT_NOT_CONFIGURED = "imagekit_not_configured"
    ALREADY_REGISTERED = "already_registered"
    # Catalog structure
    CYCLE = "cycle"
    PROTECTED = "protected"
    INVALID_ORDER = "invalid_order"
    NOT_PRODUCT_IMAGE = "not_product_image"
