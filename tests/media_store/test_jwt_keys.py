"""PyJWT's warning about short HMAC keys: hidden once for the process (media_store.jwt_keys),
never by swapping the process's warning filters around each call."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

from media_store.storage.imagekit.direct import sign_upload_token

BASE_DIR = Path(__file__).resolve().parents[2]
SHORT_KEY = "private_short_key"  # 17 bytes: PyJWT >= 2.10 warns under 32
PUBLIC_KEY = "public_short_key"
FIELDS = {"fileName": "cat.jpg", "folder": "/catalog/uploads/"}

SIGN = f"""
import time
from media_store.storage.imagekit.direct import sign_upload_token
now = int(time.time())
token = sign_upload_token({FIELDS!r}, private_key={SHORT_KEY!r}, public_key={PUBLIC_KEY!r},
                          issued_at=now, expires_at=now + 60)
"""


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a new interpreter where PyJWT's short-key warning is an error (pytest,
    in this process, resets the filters around each test: start-up filters cannot show)."""
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return subprocess.run(
        [sys.executable, "-W", "error:The HMAC key:UserWarning", "-c", textwrap.dedent(code)],
        cwd=BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_the_start_up_filter_a_short_key_warns():
    # Not vacuous: with nothing registered, signing with this key fails on the warning.
    result = run_python(SIGN)
    assert result.returncode == 1
    assert "The HMAC key is 17 bytes long" in result.stderr


def test_django_start_up_hides_it_for_signing():
    result = run_python(
        "import django; django.setup()\n" + SIGN,
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="test-jwt-keys",
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_local_imagekit_server_hides_it_without_django():
    # A bench's child process runs the emulator without Django.
    result = run_python(
        "from media_store.imagekit_server.auth import UploadTokenAuth\n"
        f"auth = UploadTokenAuth({SHORT_KEY!r}, {PUBLIC_KEY!r})\n"
        + SIGN
        + f"auth.check(token, {{name: [value] for name, value in {FIELDS!r}.items()}})\n"
        "print('checked')\n"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "checked"


def test_signing_in_threads_leaves_other_threads_filters_alone():
    """catch_warnings around each call put back its copy of the filter list on exit,
    dropping any filter another thread had added meanwhile."""
    stop = threading.Event()

    def keep_signing() -> None:
        now = int(time.time())
        while not stop.is_set():
            sign_upload_token(
                FIELDS,
                private_key=SHORT_KEY,
                public_key=PUBLIC_KEY,
                issued_at=now,
                expires_at=now + 60,
            )

    signers = [threading.Thread(target=keep_signing) for _ in range(4)]
    for signer in signers:
        signer.start()
    lost = []
    try:
        for i in range(300):
            marker = f"marker {i}"
            warnings.filterwarnings("ignore", message=marker)
            time.sleep(0.0005)
            if not any(f[1] is not None and f[1].pattern == marker for f in warnings.filters):
                lost.append(marker)
    finally:
        stop.set()
        for signer in signers:
            signer.join(timeout=10)
    assert lost == []
