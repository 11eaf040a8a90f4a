from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from catalog.imports import COLUMNS, SIDECAR, Importer, Item, Outcome, Result, read_items
from media_store.progress import progress


class Command(BaseCommand):
    help = (
        "Import image files through the upload path (checked, small variant, placeholder). "
        f"SOURCE is a folder (every file in it, or as its {SIDECAR} says) or a CSV with the "
        f"columns {', '.join(COLUMNS)} (`file` required; paths relative to the CSV). Files "
        "whose bytes are already stored are skipped, so a stopped run is resumed by running "
        "it again. Exits with status 1 if any file failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, help="A folder, or a CSV of files.")
        parser.add_argument(
            "--workers",
            type=int,
            default=4,
            help="Files uploaded at once (default: %(default)s).",
        )
        parser.add_argument(
            "--user",
            default="",
            help="Username recorded as the images' creator (default: none, the system).",
        )
        parser.add_argument(
            "--private", action="store_true", help="Make the images private (staff only)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every file and say what would be stored or skipped; store nothing.",
        )

    def handle(self, *args, source: Path, workers: int, user: str, private, dry_run, **options):
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        try:
            items = read_items(source)
        except ValueError as e:
            raise CommandError(str(e)) from e
        importer = Importer(created_by=self._user(user), is_private=private, dry_run=dry_run)
        importer.load_products(items)

        results = self._run(importer, items, workers)

        self._report(results, dry_run)
        failed = sum(r.outcome is Outcome.FAILED for r in results)
        if failed:
            raise CommandError(
                f"{failed} file(s) failed (listed above). Fix them and run the import again: "
                "files already stored are skipped.",
                returncode=1,
            )

    def _user(self, username: str):
        if not username:
            return None
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist as e:
            raise CommandError(f"No user named {username!r}.") from e

    def _run(self, importer: Importer, items: list[Item], workers: int) -> list[Result]:
        verb = "checking" if importer.dry_run else "importing"
        labels = {outcome: str(outcome) for outcome in Outcome}
        if importer.dry_run:
            labels[Outcome.STORED] = "would store"
        tally = dict.fromkeys(Outcome, 0)
        results: list[Result] = []
        with progress(self.stderr, total=len(items), desc=verb) as bar:

            def done(result: Result) -> None:
                results.append(result)
                tally[result.outcome] += 1
                bar.set_postfix_str(
                    ", ".join(f"{labels[outcome]} {count}" for outcome, count in tally.items()),
                    refresh=False,
                )
                bar.update()

            if workers == 1:
                for item in items:
                    done(importer.run(item))
            else:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    futures = [pool.submit(self._in_thread, importer, item) for item in items]
                    for future in as_completed(futures):
                        done(future.result())
        order = {id(item): index for index, item in enumerate(items)}
        return sorted(results, key=lambda result: order[id(result.item)])

    @staticmethod
    def _in_thread(importer: Importer, item: Item) -> Result:
        try:
            return importer.run(item)
        finally:
            # Each thread has its own connection; give it back before the thread idles.
            connections.close_all()

    def _report(self, results: list[Result], dry_run: bool) -> None:
        counts = {outcome: [r for r in results if r.outcome is outcome] for outcome in Outcome}
        for outcome in (Outcome.SKIPPED, Outcome.FAILED):
            if counts[outcome]:
                self.stdout.write(f"{outcome.capitalize()}:")
                for result in counts[outcome]:
                    self.stdout.write(f"  {result.item.label}: {result.detail}")
        stored = "would store" if dry_run else "stored"
        summary = (
            f"{len(results)} file(s): {stored} {len(counts[Outcome.STORED])}, "
            f"skipped {len(counts[Outcome.SKIPPED])}, failed {len(counts[Outcome.FAILED])}."
        )
        if dry_run:
            summary += " Dry run: nothing was stored."
        style = self.style.ERROR if counts[Outcome.FAILED] else self.style.SUCCESS
        self.stdout.write(style(summary))
