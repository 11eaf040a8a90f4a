"""``manage.py register_persisted_queries``: list documents for the allow-list mode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from graphql import GraphQLError, parse, specified_rules, validate

from config.graphql_cache import persisted
from config.request_errors import RequestError
from graphql_limits import graphql_settings
from graphql_limits.extensions import limit_errors

MANIFEST_FORMAT = "apollo-persisted-query-manifest"


class Command(BaseCommand):
    help = (
        "Register GraphQL documents as persisted queries in the shared cache, without "
        "expiry: the only ones that run when GRAPHQL_PERSISTED_QUERIES_ONLY is on (and "
        "found by hash in any mode). Takes .graphql/.gql files (each file one document, "
        "registered under the SHA-256 of its exact text) and Apollo persisted query "
        "manifests (.json, from @apollo/generate-persisted-query-manifest). Each document "
        "is checked against the schema and the GraphQL limits first. Run it on every "
        "deploy, after migrate; registering a document again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, help=".graphql, .gql or .json files")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the documents, register nothing."
        )

    def handle(self, *args, files: list[Path], dry_run: bool, **options):
        from config.schema import schema  # the whole API; only needed here

        registered = known = 0
        failed: list[str] = []
        for source, document in _documents(files):
            sha256 = persisted.document_hash(document)
            problem = _problem(schema._schema, document)
            if problem:
                failed.append(source)
                self.stderr.write(f"{source}: not registered: {problem}")
                continue
            if cache.get(persisted.LISTED_PREFIX + sha256) is not None:
                known += 1
                self.stdout.write(f"{sha256}  {source} (already registered)")
                continue
            if not dry_run:
                persisted.register(document)
            registered += 1
            self.stdout.write(f"{sha256}  {source}")
        verb = "Would register" if dry_run else "Registered"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {registered} document(s); {known} already registered.")
        )
        if failed:
            raise CommandError(
                f"{len(failed)} document(s) were not registered ({', '.join(failed)}); "
                "fix them and run the command again."
            )


def _documents(files: list[Path]) -> Iterator[tuple[str, str]]:
    """(where it comes from, document text) for every document in ``files``."""
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise CommandError(f"Cannot read {path}: {e}") from e
        if path.suffix.lower() not in {".json", ".graphql", ".gql"}:
            raise CommandError(f"{path}: expected a .graphql, .gql or .json (manifest) file.")
        if path.suffix.lower() != ".json":
            yield str(path), text
            continue
        yield from _manifest_documents(path, text)


def _manifest_documents(path: Path, text: str) -> Iterator[tuple[str, str]]:
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as e:
        raise CommandError(f"{path} is not valid JSON: {e}") from e
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != MANIFEST_FORMAT
        or manifest.get("version") != 1
        or not isinstance(manifest.get("operations"), list)
    ):
        raise CommandError(
            f'{path} is not an Apollo persisted query manifest ({{"format": '
            f'"{MANIFEST_FORMAT}", "version": 1, "operations": [...]}}).'
        )
    for index, operation in enumerate(manifest["operations"]):
        name = operation.get("name") if isinstance(operation, dict) else None
        source = f"{path}#{name or index}"
        body = operation.get("body") if isinstance(operation, dict) else None
        if not isinstance(body, str):
            raise CommandError(f"{source}: an operation needs its document as `body`.")
        if operation.get("id") != persisted.document_hash(body):
            raise CommandError(
                f"{source}: `id` is not the SHA-256 of `body`; generate the manifest with the "
                "default createOperationId, the hash Apollo's PersistedQueryLink sends."
            )
        yield source, body


def _problem(schema, document: str) -> str | None:
    """Why ``document`` cannot be registered or run, whatever its variables, or None."""
    try:
        persisted.check_size(len(document.encode()))
    except RequestError as e:
        return e.reason
    conf = graphql_settings()
    try:
        parsed = parse(document, max_tokens=conf["MAX_TOKENS"])
    except GraphQLError as e:
        return e.message
    # The limits as they stand with no variables given (requests are measured again
    # with theirs), then validation, as QueryLimits checks them.
    errors = limit_errors(schema, parsed, conf, None) or validate(schema, parsed, specified_rules)
    return "; ".join(error.message for error in errors) or None
