"""``manage.py media_sync --from local --to imagekit``: move a catalog's files between storages."""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils.module_loading import import_string

from media_store.exceptions import RemoteStorageError
from media_store.progress import Progress
from media_store.references import Reference, references
from media_store.selection import STORAGE_BACKENDS
from media_store.storage.interface import MediaStorage
from media_store.sync import FAILURES, Outcome, Result, Task, copy_one, plan

# Exit status after Ctrl-C, as shells report it (128 + SIGINT).
INTERRUPTED = 130


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


class Command(BaseCommand):
    help = (
        "Copy every file that database rows reference (images and their small variants) "
        "from one storage to another, under the same names, so the rows serve the same "
        "images once the storage setting is switched. Each copy is verified (size, and "
        "the bytes read back); a file already at the destination with the same size is "
        "skipped, so the command can be run again to resume. Exits non-zero if a file "
        "could not be copied."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = ", ".join(STORAGE_BACKENDS)
        parser.add_argument(
            "--from",
            dest="source",
            required=True,
            choices=sorted(STORAGE_BACKENDS),
            help=f"Storage to copy from ({kinds}): local is MEDIA_ROOT, imagekit the account "
            "the IMAGEKIT_* settings name.",
        )
        parser.add_argument(
            "--to",
            dest="destination",
            required=True,
            choices=sorted(STORAGE_BACKENDS),
            help=f"Storage to copy to ({kinds}).",
        )
        parser.add_argument(
            "--workers",
            type=positive_int,
            default=4,
            help="Files copied at once (default: %(default)s).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say what would be copied; copy and record nothing.",
        )

    def handle(self, *args: Any, source, destination, workers, dry_run, **options: Any) -> None:
        if source == destination:
            raise CommandError(
                f"--from and --to are both {source!r}; copy between two storages "
                f"({' and '.join(STORAGE_BACKENDS)})."
            )
        self.verbosity = options["verbosity"]
        source_storage = _storage(source)
        destination_storage = _storage(destination)
        rows: dict[str, list[Reference]] = defaultdict(list)
        for reference in references(storages["default"]):
            rows[reference.name].append(reference)
        try:
            tasks = plan(rows, source_storage, destination_storage)
        except RemoteStorageError as e:
            raise CommandError(f"Could not list the stored files: {e}") from e
        fields = sum(len(found) for found in rows.values())
        self.stdout.write(
            f"{len(tasks)} file(s) referenced by {fields} row field(s); "
            f"{'checking' if dry_run else 'copying'} {source} → {destination}"
            + ("" if dry_run else f" with {workers} worker(s)")
            + "."
        )
        counts: Counter[Outcome] = Counter()
        copied_bytes = 0
        interrupted = False
        with Progress(self.stdout, total=len(tasks), unit="file") as progress:
            to_copy = []
            for task in tasks:
                if task.present:
                    counts[Outcome.PRESENT] += 1
                    progress.step(f"already there: {task.name}" if self.verbosity > 1 else "")
                else:
                    to_copy.append(task)
            if dry_run:
                for task in to_copy:
                    outcome = self._report_dry(progress, task, rows)
                    counts[outcome] += 1
                    copied_bytes += task.source_size or 0
            else:
                try:
                    for result in self._copy(to_copy, source_storage, destination_storage, workers):
                        result = _recorded(result, destination_storage)
                        counts[result.outcome] += 1
                        if result.outcome is Outcome.COPIED and result.stored is not None:
                            copied_bytes += result.stored.size
                        self._report(progress, result, rows)
                except KeyboardInterrupt:
                    interrupted = True
        self._summarise(
            counts, copied_bytes, source, destination, destination_storage, dry_run, interrupted
        )

    # --- copying ---------------------------------------------------------------------

    def _copy(
        self,
        tasks: list[Task],
        source: MediaStorage,
        destination: MediaStorage,
        workers: int,
    ) -> Iterator[Result]:
        """Each task's Result, as the workers finish them (in this thread)."""
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="media-sync")
        futures = [pool.submit(copy_one, task, source, destination) for task in tasks]
        taken = set()
        try:
            for future in as_completed(futures):
                taken.add(future)
                yield future.result()
        except KeyboardInterrupt:
            # Ctrl-C: start nothing new, let the copies under way finish (a file is
            # never left half-written under its name), and hand over what they
            # copied, so it is recorded before the command stops.
            pool.shutdown(wait=True, cancel_futures=True)
            for future in futures:
                if future not in taken and not future.cancelled() and not future.exception():
                    yield future.result()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    # --- messages --------------------------------------------------------------------

    def _report(self, progress: Progress, result: Result, rows) -> None:
        if result.outcome is Outcome.COPIED:
            progress.step(f"copied: {result.name} ({result.detail})")
            return
        detail = f": {result.detail}" if result.detail else ""
        progress.step(
            f"{result.outcome}: {result.name}{detail} — {_rows(rows[result.name])}",
            self.style.ERROR,
        )

    def _report_dry(self, progress: Progress, task: Task, rows) -> Outcome:
        if task.source_size is None:
            progress.step(
                f"{Outcome.MISSING}: {task.name} — {_rows(rows[task.name])}", self.style.WARNING
            )
            return Outcome.MISSING
        verb = "would copy" if task.destination_size is None else "would replace"
        there = (
            "" if task.destination_size is None else f"; {task.destination_size} at the destination"
        )
        progress.step(f"{verb}: {task.name} ({task.source_size} bytes{there})")
        return Outcome.COPIED

    def _summarise(
        self,
        counts: Counter[Outcome],
        copied_bytes: int,
        source: str,
        destination: str,
        destination_storage: MediaStorage,
        dry_run: bool,
        interrupted: bool,
    ) -> None:
        failed = sum(counts[outcome] for outcome in FAILURES)
        if dry_run:
            summary = (
                f"Dry run: nothing was copied or recorded. Would copy {counts[Outcome.COPIED]} "
                f"file(s) ({copied_bytes} bytes) from {source} to {destination}; "
                f"{counts[Outcome.PRESENT]} already there; "
                f"{counts[Outcome.MISSING]} missing at the source."
            )
        else:
            summary = (
                f"{'Interrupted. ' if interrupted else ''}"
                f"Copied {counts[Outcome.COPIED]} file(s) ({copied_bytes} bytes) from {source} "
                f"to {destination}, each verified; {counts[Outcome.PRESENT]} already there; "
                f"{counts[Outcome.MISSING]} missing at the source; "
                f"{counts[Outcome.UNREADABLE]} not readable images; "
                f"{counts[Outcome.FAILED]} failed."
            )
        self.stdout.write(
            (self.style.WARNING if failed or interrupted else self.style.SUCCESS)(summary)
        )
        if not dry_run and not failed and not interrupted:
            if isinstance(storages["default"], type(destination_storage)):
                self.stdout.write(
                    f"The rows keep their names: the configured storage ({destination}) now "
                    "serves every referenced file."
                )
            else:
                self.stdout.write(
                    f"The rows keep their names: switch the storage to {destination} "
                    "(README, Configuration) and they serve these files."
                )
        if interrupted:
            raise CommandError(
                "Interrupted: run media_sync again to copy the rest "
                "(files already copied are skipped).",
                returncode=INTERRUPTED,
            )
        if failed:
            raise CommandError(
                f"{failed} file(s) {'would not be' if dry_run else 'were not'} copied "
                "(listed above). Restore them at the source (or re-upload those images), "
                "then run media_sync again: files already copied are skipped."
            )


def _storage(kind: str) -> MediaStorage:
    try:
        storage = import_string(STORAGE_BACKENDS[kind])()
    except ImproperlyConfigured as e:
        raise CommandError(f"The {kind} storage is not configured: {e}") from e
    return storage


def _recorded(result: Result, destination: MediaStorage) -> Result:
    """Record a copy (ImageKit: what it answered, as a StoredFile row); discard a bad one."""
    if result.stored is None:
        return result
    if result.outcome is not Outcome.COPIED:
        destination.discard(result.stored)
        return result
    try:
        destination.record(result.stored)
    except DatabaseError as e:
        return Result(result.name, Outcome.FAILED, f"copied, but not recorded ({e})")
    return result


def _rows(found: list[Reference]) -> str:
    return ", ".join(f"{row.model} pk={row.pk} field={row.field}" for row in found)
