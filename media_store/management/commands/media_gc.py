from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from media_store.exceptions import RemoteStorageError
from media_store.inventory import take_inventory
from media_store.management.storages import media_storage
from media_store.models import StoredFile
from media_store.progress import progress


class Command(BaseCommand):
    help = (
        "List stored files that no database row references and that are older than a "
        "grace period, and rows whose files are missing; with --delete, remove the "
        "unreferenced files and retry deletions that failed before. Rows are never deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace-hours",
            type=float,
            default=24.0,
            help="Leave files younger than this alone: an upload may still be committing "
            "(default: %(default)s).",
        )
        parser.add_argument("--delete", action="store_true", help="Delete what is listed.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="With --delete: say what would be deleted, delete nothing.",
        )
        parser.add_argument(
            "--storage", default="default", help="Which STORAGES alias (default: %(default)s)."
        )

    def handle(self, *args, grace_hours, delete, dry_run, storage, **options):
        backend = media_storage(storage)
        cutoff = timezone.now() - timedelta(hours=grace_hours)
        try:
            # One listing serves both questions: what nobody references, and what is gone.
            inventory = take_inventory(backend)
        except RemoteStorageError as e:
            raise CommandError(f"Could not list stored files: {e}") from e
        referenced = inventory.referenced
        pending = list(StoredFile.objects.filter(delete_failed_at__isnull=False))
        # A row still points at it: deleting it would break that row.
        held = [row for row in pending if row.name in referenced]
        pending = [row for row in pending if row.name not in referenced]
        pending_names = {row.name for row in pending}
        orphans = [
            (entry.name, entry.stored_at)
            for entry in inventory.unreferenced
            if entry.name not in pending_names  # listed once, below
            and (entry.stored_at is None or entry.stored_at < cutoff)
        ]
        missing = inventory.missing

        acting = delete and not dry_run
        verb = "Deleting" if acting else ("Would delete" if delete else "Unreferenced")
        for name, stored_at in orphans:
            when = stored_at.isoformat(timespec="seconds") if stored_at else "unknown time"
            self.stdout.write(f"{verb}: {name} (stored {when})")
        for row in pending:
            self.stdout.write(f"{verb} (earlier deletion failed): {row.name} — {row.last_error}")
        for row in held:
            self.stdout.write(
                self.style.WARNING(
                    f"Kept (a row references it, though its deletion was queued): {row.name}"
                )
            )
        for row in missing:
            self.stdout.write(
                self.style.WARNING(
                    f"Missing file: {row.model} pk={row.pk} field={row.field} name={row.name}"
                )
            )
        failed = 0
        if acting:
            doomed = [name for name, _ in orphans] + [row.name for row in pending]
            with progress(self.stderr, total=len(doomed), desc="deleting") as bar:
                for name in doomed:
                    try:
                        backend.delete(name)
                    except Exception as e:
                        failed += 1
                        self.stderr.write(self.style.ERROR(f"Could not delete {name}: {e}"))
                    bar.update()
        total = len(orphans) + len(pending)
        summary = (
            f"{total} file(s) unreferenced or pending deletion, older than {grace_hours:g} h; "
            f"{len(referenced)} referenced; {len(missing)} row(s) point at missing files."
        )
        if acting:
            summary += f" Deleted {total - failed}, failed {failed}."
        elif delete:
            summary += " Dry run: nothing was changed."
        elif total:
            summary += " Run with --delete to remove them."
        if missing:
            summary += (
                " Rows are never deleted: run media_check to see them by field, and "
                "media_check --fix to re-make what can be re-made."
            )
        style = self.style.WARNING if failed or missing else self.style.SUCCESS
        self.stdout.write(style(summary))
        if failed:
            raise CommandError(f"{failed} deletion(s) failed; they stay queued for the next run.")
