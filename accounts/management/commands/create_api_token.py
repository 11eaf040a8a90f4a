from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user the token acts as.")
        parser.add_argument("--name", default="", help="A label for the token (default: none).")

    def handle(self, *args, username: str, name: str, **options):
        user_model = get_user_model()
        try:
            user = user_model.objects.get_by_natural_key(username)
        except user_model.DoesNotExist as e:
            raise CommandError(
                f"No user named {username!r}. Create one with `manage.py createsuperuser`."
            ) from e
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; activate it first.")
        _, raw = ApiToken.objects.create_token(user, name=name)
        self.stdout.write(raw)
