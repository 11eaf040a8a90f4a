"""``manage.py media_check [--fix]``: rows whose files are missing, files no row references."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from media_store.derivatives import Derivative, derivative, remake, source_name
from media_store.exceptions import RemoteStorageError
from media_store.inventory import Inventory, take_inventory
from media_store.management.storages import media_storage
from media_store.references import Reference
from media_store.storage.interface import MediaStorage


class Command(BaseCommand):
    help = (
        "Check the storage against the database: list each row whose file it lacks "
        "(model, pk, field, name) and each stored file no row references, with counts. "
        "Exits non-zero while a referenced file is missing. --fix re-makes what can be "
        "made again safely (a missing small variant, from its original, as an upload "
        "makes it). Nothing is ever deleted here: media_gc --delete removes unreferenced "
        "files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fix",
            action="store_true",
            help="Re-make missing small variants from their originals; delete nothing.",
        )
        parser.add_argument(
            "--storage", default="default", help="Which STORAGES alias (default: %(default)s)."
        )

    def handle(self, *args: Any, fix: bool, storage: str, **options: Any) -> None:
        backend = media_storage(storage)
        try:
            inventory = take_inventory(backend)
        except RemoteStorageError as e:
            raise CommandError(f"Could not list stored files: {e}") from e
        missing_names = {row.name for row in inventory.missing}
        # originals, and files made from a missing original, cannot be re-made here;
        # fixable: --fix would re-make them; remade / not_remade: what --fix did.
        counts: Counter[str] = Counter()
        for row in inventory.missing:
            line = f"Missing: {row.model} pk={row.pk} field={row.field} name={row.name}"
            made = derivative(row)
            if made is None:
                counts["originals"] += 1
                self.stdout.write(self.style.WARNING(f"{line} (an original)"))
                continue
            source = source_name(row, made)
            if not source or source in missing_names:
                counts["not_remade"] += 1
                self.stdout.write(
                    self.style.WARNING(
                        f"{line} (cannot be re-made: its {made.source} is missing too)"
                    )
                )
            elif not fix:
                counts["fixable"] += 1
                self.stdout.write(
                    self.style.WARNING(f"{line} (--fix re-makes it from its {made.source})")
                )
            elif self._remake(backend, row, made, source, line):
                counts["remade"] += 1
            else:
                counts["not_remade"] += 1
        for entry in inventory.unreferenced:
            when = entry.stored_at.isoformat(timespec="seconds") if entry.stored_at else "unknown"
            self.stdout.write(f"Unreferenced: {entry.name} ({entry.size} bytes, stored {when})")
        self._summarise(inventory, counts, fix)

    def _remake(
        self, backend: MediaStorage, row: Reference, made: Derivative, source: str, line: str
    ) -> bool:
        try:
            stored = remake(backend, row, made, source)
        except FileNotFoundError:
            reason = f"its {made.source} {source} is missing too"
        except (RemoteStorageError, ValueError, OSError) as e:
            reason = str(e)
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Re-made: {row.model} pk={row.pk} field={row.field} name={row.name} "
                    f"({stored.size} bytes) from {made.source} {source}"
                )
            )
            return True
        self.stdout.write(self.style.ERROR(f"{line}: cannot re-make it, {reason}"))
        return False

    def _summarise(self, inventory: Inventory, counts: Counter[str], fix: bool) -> None:
        missing = inventory.missing
        unreferenced = inventory.unreferenced
        by_field = Counter(f"{row.model}.{row.field}" for row in missing)
        breakdown = ", ".join(f"{field}: {count}" for field, count in sorted(by_field.items()))
        summary = (
            f"{len(inventory.references)} file(s) referenced, {len(inventory.listed)} stored: "
            f"{len(missing)} missing{f' ({breakdown})' if breakdown else ''}, "
            f"{len(unreferenced)} unreferenced."
        )
        if fix:
            summary += f" Re-made {counts['remade']} file(s); deleted nothing."
        else:
            summary += " Nothing was changed."
        if counts["fixable"]:
            summary += (
                f" Run with --fix to re-make {counts['fixable']} small variant(s) "
                "from their originals."
            )
        if counts["originals"] or counts["not_remade"]:
            summary += (
                " Originals cannot be re-made: copy them from the storage that has them "
                "(media_sync), or replace those images' files."
            )
        if unreferenced:
            summary += " Unreferenced files are kept: media_gc --delete removes old ones."
        remaining = len(missing) - counts["remade"]
        style = self.style.WARNING if remaining else self.style.SUCCESS
        self.stdout.write(style(summary))
        if remaining:
            raise CommandError(f"{remaining} referenced file(s) missing (listed above).")
