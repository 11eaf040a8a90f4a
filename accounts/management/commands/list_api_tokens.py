from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.models import ApiToken


class Command(BaseCommand):
    help = (
        "List API tokens: id, prefix, user, name, created, last used. A token itself is "
        "never shown again (only its hash is stored); revoke it with revoke_api_token."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", default="", help="Only this user's tokens (username).")

    def handle(self, *args, user: str, **options):
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "created_at")
        if user:
            tokens = tokens.filter(user__username=user)
        rows = [
            (
                str(token.pk),
                f"{token.key_prefix}…",
                token.user.get_username() + ("" if token.user.is_active else " (inactive)"),
                token.name or "-",
                token.created_at.strftime("%Y-%m-%d %H:%M"),
                token.last_used_at.strftime("%Y-%m-%d %H:%M") if token.last_used_at else "never",
            )
            for token in tokens
        ]
        if not rows:
            self.stdout.write(f"No API tokens{f' for {user!r}' if user else ''}.")
            return
        header = ("ID", "PREFIX", "USER", "NAME", "CREATED (UTC)", "LAST USED (UTC)")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())
