"""Bulk import of image files: what to import (a folder, a sidecar CSV, a CSV of paths)
and importing one file through the upload path, skipping content already stored.

A file is recognised by the SHA-256 of its bytes, which every upload records on
``Image.checksum``, so a run that stopped half-way is resumed by running it again.
"""

from __future__ import annotations

import csv
import logging
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files import File

from catalog.image_files import content_checksum, inspect_image
from catalog.models import Image, Product
from catalog.uploads import NewFile, add_image

logger = logging.getLogger(__name__)

# The sidecar a folder may hold: which product each file belongs to, and more.
SIDECAR = "images.csv"
COLUMNS = ("file", "product", "alt_text", "position", "name")


@dataclass(frozen=True, slots=True)
class Item:
    """One file to import, with what the CSV says about it (or why it cannot be)."""

    path: Path
    label: str  # as the user wrote it: the file name, or the CSV's `file` value
    product_slug: str = ""
    alt_text: str = ""
    position: int | None = None
    name: str = ""
    problem: str = ""  # set: the row is refused before its file is read


class Outcome(StrEnum):
    STORED = "stored"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Result:
    item: Item
    outcome: Outcome
    detail: str = ""  # why skipped or failed; the new image's id when stored


def read_items(source: Path) -> list[Item]:
    """The files to import from ``source``: a folder or a CSV file.

    A folder holding ``images.csv`` is imported as that CSV says; otherwise
    every file in it (not hidden, not in subfolders), by name. A CSV's ``file``
    column names files relative to the CSV's folder. Raises ValueError when
    ``source`` cannot be read at all (a bad row only fails that row).
    """
    if source.is_dir():
        sidecar = source / SIDECAR
        if sidecar.is_file():
            return _read_csv(sidecar)
        return [
            Item(path=path, label=path.name)
            for path in sorted(source.iterdir())
            if path.is_file() and not path.name.startswith(".")
        ]
    if source.is_file():
        return _read_csv(source)
    raise ValueError(f"{source} is neither a folder nor a CSV file.")


def _read_csv(path: Path) -> list[Item]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"Cannot read {path}: {e}") from e
    if "file" not in header:
        raise ValueError(
            f"{path} needs a header row with a `file` column; columns: {', '.join(COLUMNS)}."
        )
    unknown = [column for column in header if column not in COLUMNS]
    if unknown:
        raise ValueError(
            f"{path} has unknown column(s) {', '.join(map(repr, unknown))}; "
            f"columns: {', '.join(COLUMNS)}."
        )
    return [_item(path.parent, number, row) for number, row in enumerate(rows, start=2)]


def _item(folder: Path, line: int, row: dict[str, str | None]) -> Item:
    values = {key: (value or "").strip() for key, value in row.items() if key}
    label = values.get("file", "") or f"line {line}"
    problem = ""
    position = None
    if not values.get("file"):
        problem = f"line {line}: the `file` column is empty."
    elif raw := values.get("position", ""):
        try:
            position = int(raw)
            if position < 0:
                raise ValueError
        except ValueError:
            problem = f"line {line}: position must be a whole number ≥ 0, not {raw!r}."
    return Item(
        path=folder / values.get("file", ""),
        label=label,
        product_slug=values.get("product", ""),
        alt_text=values.get("alt_text", ""),
        position=position,
        name=values.get("name", ""),
        problem=problem,
    )


@dataclass
class Importer:
    """Imports items one at a time, from any number of threads.

    ``claimed`` remembers each checksum this run has taken, so two files with
    the same bytes in one batch make one image even when imported at once.
    """

    created_by: AbstractBaseUser | None = None
    is_private: bool = False
    dry_run: bool = False
    products: dict[str, Product] = field(default_factory=dict)
    claimed: dict[str, Item] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load_products(self, items: list[Item]) -> None:
        slugs = {item.product_slug for item in items if item.product_slug}
        self.products = {p.slug: p for p in Product.objects.filter(slug__in=slugs)}

    def run(self, item: Item) -> Result:
        """Import ``item``; whatever goes wrong is its Result, never an exception."""
        try:
            return self._run(item)
        except Exception as e:
            # A fault (not the file's): logged in full, counted, and the batch goes on.
            logger.exception("Importing %s failed", item.path)
            return Result(
                item, Outcome.FAILED, f"unexpected error ({type(e).__name__}); see the log."
            )

    def _run(self, item: Item) -> Result:
        if item.problem:
            return Result(item, Outcome.FAILED, item.problem)
        product = None
        if item.product_slug:
            product = self.products.get(item.product_slug)
            if product is None:
                return Result(item, Outcome.FAILED, f"no product with slug {item.product_slug!r}.")
        try:
            handle = item.path.open("rb")
        except OSError as e:
            return Result(item, Outcome.FAILED, f"cannot read the file ({e.strerror}).")
        with handle:
            file = File(handle, name=item.path.name)
            checksum = content_checksum(file)
            existing = Image.objects.filter(checksum=checksum).only("pk", "name").first()
            if existing is not None:
                return Result(
                    item, Outcome.SKIPPED, f"already stored as {existing.name!r} ({existing.pk})."
                )
            with self.lock:
                first = self.claimed.setdefault(checksum, item)
            if first is not item:
                return Result(item, Outcome.SKIPPED, f"same content as {first.label}.")
            try:
                if self.dry_run:
                    inspect_image(file)
                    return Result(item, Outcome.STORED)
                image = add_image(
                    NewFile(file),
                    created_by=self.created_by,
                    alt_text=item.alt_text,
                    name=item.name,
                    product=product,
                    position=item.position,
                    is_private=self.is_private,
                )
            except ValidationError as e:
                return Result(item, Outcome.FAILED, describe(e))
        return Result(item, Outcome.STORED, str(image.pk))


def describe(error: ValidationError) -> str:
    """``field: message (code)`` for each message, as the API would report them."""
    if not hasattr(error, "error_dict"):
        return " ".join(f"{e.message % (e.params or {})} ({e.code})" for e in error.error_list)
    return " ".join(
        f"{name}: {e.message % (e.params or {})} ({e.code})"
        for name, errors in error.error_dict.items()
        for e in errors
    )
