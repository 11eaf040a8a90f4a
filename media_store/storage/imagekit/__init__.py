"""The ImageKit storage: ``client`` (SDK calls, errors), ``records`` (answer → record),
``direct`` (browser upload tokens) and ``storage`` (the Django Storage).

``media_store.storage.imagekit.ImageKitStorage`` is the dotted path settings name.
"""

from media_store.storage.imagekit.direct import (
    DIRECT_UPLOAD_TYPES,
    UPLOAD_API_V2_PATH,
    UPLOAD_API_V2_URL,
    DirectUploadAuth,
    direct_upload_extension,
    sign_upload_token,
)
from media_store.storage.imagekit.storage import ImageKitStorage, get_default_settings

__all__ = [
    "DIRECT_UPLOAD_TYPES",
    "UPLOAD_API_V2_PATH",
    "UPLOAD_API_V2_URL",
    "DirectUploadAuth",
    "ImageKitStorage",
    "direct_upload_extension",
    "get_default_settings",
    "sign_upload_token",
]
