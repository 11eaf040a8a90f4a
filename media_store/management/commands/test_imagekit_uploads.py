"""Smoke-test the configured storage: seven checks, each printed, then a summary."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError
from PIL import Image as PILImage

from media_store.grammar import parse


def _jpeg(size: tuple[int, int], colour: str = "#3366cc") -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


class Command(BaseCommand):
    help = (
        "Run seven upload checks against the configured storage (ImageKit or local) and "
        "remove everything they stored. Exits non-zero if any check fails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--prefix",
            default="smoke-tests",
            help="Folder the checks store under (default: %(default)s).",
        )

    def handle(self, *args, prefix: str, **options):
        self.storage = storages["default"]
        self.prefix = f"{prefix.strip('/')}/{uuid.uuid4().hex[:12]}"
        self.stored: list[str] = []
        checks: list[tuple[str, Callable[[], str]]] = [
            ("basic file upload", self.check_basic_upload),
            ("image upload (PIL image)", self.check_image_upload),
            ("three uploads", self.check_three_uploads),
            ("URL generation and format", self.check_urls),
            ("metadata and existence", self.check_metadata),
            ("delete", self.check_delete),
            ("1920×1080 image", self.check_large_image),
        ]
        self.stdout.write(f"Storage: {type(self.storage).__name__}")
        passed = 0
        try:
            for number, (title, check) in enumerate(checks, start=1):
                started = time.perf_counter()
                try:
                    detail = check()
                except Exception as e:  # each failure is reported, the run goes on
                    self.stdout.write(f"❌ [{number}] {title}: {type(e).__name__}: {e}")
                else:
                    passed += 1
                    ms = (time.perf_counter() - started) * 1000
                    self.stdout.write(f"✅ [{number}] {title}: {detail} ({ms:.0f} ms)")
        finally:
            self.cleanup()
        rate = 100 * passed / len(checks)
        self.stdout.write(f"Tests Passed: {passed}/{len(checks)}")
        self.stdout.write(f"Success Rate: {rate:.1f}%")
        if passed != len(checks):
            raise CommandError(f"{len(checks) - passed} check(s) failed.")
        self.stdout.write(self.style.SUCCESS("All storage checks passed."))

    def save(self, name: str, data: bytes) -> str:
        stored = self.storage.save(f"{self.prefix}/{name}", ContentFile(data))
        self.stored.append(stored)
        return stored

    def cleanup(self) -> None:
        for name in self.stored:
            try:
                self.storage.delete(name)
            except Exception as e:
                self.stderr.write(f"Could not remove {name}: {e}")

    def check_basic_upload(self) -> str:
        name = self.save("hello.txt", b"hello, storage")
        url = self.storage.url(name)
        if not url.startswith(("http://", "https://")):
            raise AssertionError(f"URL is not absolute: {url}")
        return f"stored {name}"

    def check_image_upload(self) -> str:
        name = self.save("pil.jpg", _jpeg((400, 300)))
        with self.storage.open(name) as handle, PILImage.open(handle) as img:
            if img.size != (400, 300):
                raise AssertionError(f"read back {img.size}, expected (400, 300)")
        return f"read back 400×300 from {name}"

    def check_three_uploads(self) -> str:
        names = [
            self.save(f"multi-{i}.jpg", _jpeg((64, 64), colour))
            for i, colour in enumerate(("#aa0000", "#00aa00", "#0000aa"))
        ]
        if len(set(names)) != 3:
            raise AssertionError(f"names are not distinct: {names}")
        return ", ".join(names)

    def check_urls(self) -> str:
        name = self.save("url.jpg", _jpeg((200, 100)))
        url = self.storage.transformed_url(name, parse("w-100,f-webp"))
        if "/tr:w-100,f-webp/" not in url or not url.split("?")[0].endswith(name):
            raise AssertionError(f"unexpected URL shape: {url}")
        return url

    def check_metadata(self) -> str:
        data = _jpeg((120, 90))
        name = self.save("meta.jpg", data)
        if not self.storage.exists(name):
            raise AssertionError("exists() is False right after saving")
        if self.storage.size(name) != len(data):
            raise AssertionError(f"size() is {self.storage.size(name)}, expected {len(data)}")
        if self.storage.exists(f"{self.prefix}/missing.jpg"):
            raise AssertionError("exists() is True for a missing file")
        return f"{len(data)} bytes, exists"

    def check_delete(self) -> str:
        name = self.save("delete-me.jpg", _jpeg((32, 32)))
        self.storage.delete(name)
        self.stored.remove(name)
        if self.storage.exists(name):
            raise AssertionError("still exists after delete()")
        return f"deleted {name}"

    def check_large_image(self) -> str:
        data = _jpeg((1920, 1080))
        name = self.save("large.jpg", data)
        with self.storage.open(name) as handle, PILImage.open(handle) as img:
            if img.size != (1920, 1080):
                raise AssertionError(f"read back {img.size}")
        return f"{len(data)} bytes, 1920×1080"
