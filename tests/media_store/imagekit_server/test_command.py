from __future__ import annotations

import io
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from io import StringIO
from pathlib import Path

import httpx
import pytest
from django.core.management import CommandError, call_command
from imagekitio import ImageKit
from PIL import Image

from tests.media_store.imagekit_server.conftest import image_bytes

REPO = Path(__file__).resolve().parents[3]


def _lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _value(lines: queue.Queue[str], label: str) -> str:
    while True:
        line = lines.get(timeout=20)
        if line.strip().startswith(label):
            return line.split(label, 1)[1].strip()


def test_command_serves_until_interrupted(tmp_path: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "IMAGEKIT_PRIVATE_KEY": ""}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "imagekit_server", "--port", "0", "--root", str(tmp_path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = _lines(process)
        base_url = _value(lines, "base_url:")
        url_endpoint = _value(lines, "url_endpoint:")
        private_key = _value(lines, "private key:")
        client = ImageKit(private_key=private_key, base_url=base_url, max_retries=0)

        uploaded = client.files.upload(file=b"from the command", file_name="c.txt")

        assert uploaded.url.startswith(url_endpoint)
        assert httpx.get(uploaded.url).content == b"from the command"
        assert httpx.get(f"{base_url}/__health__").json() == {"status": "ok"}
    finally:
        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=20)
    assert returncode == 0
    assert any((tmp_path / "blobs").iterdir())


def test_command_reports_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        with pytest.raises(CommandError, match="Cannot start the local ImageKit server"):
            call_command("imagekit_server", port=port, root=tmp_path, stdout=StringIO())


def test_command_never_prints_a_configured_private_key(tmp_path: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "imagekit_server",
            "--port",
            "0",
            "--root",
            str(tmp_path),
            "--private-key",
            "private_super_secret",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        lines = _lines(process)
        while not (line := lines.get(timeout=20)).startswith("Quit"):
            seen.append(line)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    output = "".join(seen)
    assert "private key:   the configured one (not shown)" in output
    assert "private_super_secret" not in output


def test_command_hardens_v1_client_uploads(tmp_path: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "IMAGEKIT_PRIVATE_KEY": ""}
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "imagekit_server",
            "--port",
            "0",
            "--root",
            str(tmp_path),
            "--public-key",
            "public_cmd",
            "--client-upload-folder",
            "/catalog/uploads/",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = _lines(process)
        base_url = _value(lines, "base_url:")
        private_key = _value(lines, "private key:")
        hardening = _value(lines, "V1 client-side uploads:")
        params = ImageKit(private_key=private_key).helper.get_authentication_parameters()
        form = {
            "fileName": "x.jpg",
            "folder": "/catalog/images/",
            "publicKey": "public_cmd",
            "token": params["token"],
            "expire": str(params["expire"]),
            "signature": params["signature"],
        }

        response = httpx.post(
            f"{base_url}/api/v1/files/upload",
            files={**{k: (None, v) for k, v in form.items()}, "file": ("x.jpg", b"x")},
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert hardening == "only into /catalog/uploads/, never overwriting"
    assert response.status_code == 403


def test_command_serves_named_transformations(tmp_path: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "IMAGEKIT_PRIVATE_KEY": ""}
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "imagekit_server",
            "--port",
            "0",
            "--root",
            str(tmp_path),
            "--named-transformation",
            "card=w-40,h-30",
            "--named-transformation",
            "wide=w-64:ar-16-9",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = _lines(process)
        base_url = _value(lines, "base_url:")
        url_endpoint = _value(lines, "url_endpoint:")
        private_key = _value(lines, "private key:")
        named = _value(lines, "named transformations:")
        client = ImageKit(private_key=private_key, base_url=base_url, max_retries=0)
        photo = client.files.upload(file=image_bytes((80, 60), "JPEG"), file_name="p.jpg")

        card = httpx.get(f"{url_endpoint}/tr:n-card{photo.file_path}")
        unknown = httpx.get(f"{url_endpoint}/tr:n-poster{photo.file_path}")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert named == "card, wide"
    assert card.status_code == 200
    assert Image.open(io.BytesIO(card.content)).size == (40, 30)
    assert unknown.status_code == 400
    assert "named transformation 'poster' does not exist" in unknown.json()["message"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("card", "write NAME=CHAIN, e.g. card=w-400,h-300"),
        ("=w-10", "write NAME=CHAIN"),
        ("card=w-abc", r"named transformation 'card' is invalid: step 1 'w-abc': 'w' must be"),
        ("my card=w-10", "named transformation 'my card' is invalid"),
        ("card=w-10:n-other", "step 2 'n-other' names another named transformation"),
    ],
)
def test_command_refuses_a_bad_named_transformation(
    tmp_path: Path, value: str, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command(
            "imagekit_server",
            port=0,
            root=tmp_path,
            named_transformation=[value],
            stdout=StringIO(),
        )
    assert not (tmp_path / "index.sqlite3").exists()
