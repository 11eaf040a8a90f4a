from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiToken, hash_token

PREFIX_LENGTH = ApiToken._meta.get_field("key_prefix").max_length


class Command(BaseCommand):
    help = (
        "Revoke API tokens: by id or prefix (as list_api_tokens shows them), or all of a "
        "user's with --user. Requests with a revoked token are refused at once (401)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "tokens", nargs="*", help="Token ids or prefixes (e.g. 12 or cat_Ab3dE9xY)."
        )
        parser.add_argument("--user", default="", help="Revoke every token of this username.")

    def handle(self, *args, tokens: list[str], user: str, **options):
        if not tokens and not user:
            raise CommandError("Name the tokens to revoke (id or prefix), or use --user.")
        doomed = {token.pk: token for token in map(self._find, tokens)}
        if user:
            owned = ApiToken.objects.select_related("user").filter(user__username=user)
            if not owned:
                raise CommandError(f"User {user!r} has no API tokens (see list_api_tokens).")
            doomed.update((token.pk, token) for token in owned)
        ApiToken.objects.filter(pk__in=doomed).delete()
        for token in doomed.values():
            owner = token.user.get_username()
            self.stdout.write(f"Revoked {token.pk} {token.key_prefix}… ({owner})")

    def _find(self, ref: str) -> ApiToken:
        tokens = ApiToken.objects.select_related("user")
        if ref.isdigit():
            matches = list(tokens.filter(pk=int(ref)))
        elif len(ref) > PREFIX_LENGTH:  # the whole token, as a client holds it
            matches = list(tokens.filter(key_hash=hash_token(ref)))
            ref = ref[:PREFIX_LENGTH]  # never echo a token back
        else:
            matches = list(tokens.filter(key_prefix=ref.rstrip("…")))
        if not matches:
            raise CommandError(f"No API token {ref!r}; list_api_tokens shows ids and prefixes.")
        if len(matches) > 1:
            ids = ", ".join(str(token.pk) for token in matches)
            raise CommandError(f"Prefix {ref!r} matches tokens {ids}; revoke one by id.")
        return matches[0]
