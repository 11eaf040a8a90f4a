"""ImageKit's private key as PyJWT's HMAC key, for upload tokens.

ImageKit chooses the private key, and with it the length of the key that signs
(``storage.imagekit.direct``) and checks (the local ImageKit server) upload API V2
tokens. PyJWT >= 2.10 warns when it is under 32 bytes; test and emulator keys
are. The warning is hidden for the whole process, at start-up: wrapping each
call in ``warnings.catch_warnings`` swapped the process's filter list from
request threads, and concurrent calls dropped each other's filters (and those of
any other thread).
"""

from __future__ import annotations

import warnings

SHORT_HMAC_KEY_WARNING = r"The HMAC key is \d+ bytes long"


def hide_short_hmac_key_warning() -> None:
    """Ignore PyJWT's short-HMAC-key warning in this process (calling it again is harmless:
    ``filterwarnings`` replaces an identical filter)."""
    warnings.filterwarnings("ignore", message=SHORT_HMAC_KEY_WARNING, category=UserWarning)
