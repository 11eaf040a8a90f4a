"""``manage.py imagekit_server``: run the local ImageKit-compatible server until Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from media_store.imagekit_server import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY, ImageKitServer


class Command(BaseCommand):
    help = (
        "Run a local ImageKit-compatible server (upload, files, assets and the URL endpoint) "
        "for development and tests, until Ctrl-C. Files persist under --root."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="Interface to bind (default: %(default)s). The /__faults__ admin routes "
            "are unauthenticated, so keep it on loopback.",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=8010,
            help="Port; 0 picks a free one (default: %(default)s).",
        )
        parser.add_argument(
            "--root",
            type=Path,
            default=Path("var/imagekit"),
            help="Folder for file bytes and the index (default: %(default)s).",
        )
        parser.add_argument(
            "--private-key",
            default=None,
            help="Private API key clients must send (default: settings.IMAGEKIT_PRIVATE_KEY, "
            f"else {DEFAULT_PRIVATE_KEY!r}).",
        )
        parser.add_argument(
            "--public-key",
            default=None,
            help="Public key for client-side uploads (default: settings.IMAGEKIT_PUBLIC_KEY, "
            f"else {DEFAULT_PUBLIC_KEY!r}).",
        )
        parser.add_argument(
            "--endpoint-id",
            default="demo",
            help="URL endpoint id: files are served under /cdn/<id>/ (default: %(default)s).",
        )
        parser.add_argument(
            "--url-endpoint",
            default=None,
            help="Public URL endpoint written into `url` fields, when clients reach the server "
            "through another address (default: http://<host>:<port>/cdn/<endpoint-id>).",
        )
        parser.add_argument(
            "--named-transformation",
            action="append",
            default=[],
            metavar="NAME=CHAIN",
            help="A named transformation, as created in ImageKit's dashboard, e.g. "
            "card=w-400,h-300 (served for tr:n-card); repeat for more (default: only "
            "ImageKit's built-in ik_ml_thumbnail).",
        )
        parser.add_argument(
            "--client-upload-folder",
            default=None,
            help="Harden the account: refuse V1 client-side uploads (publicKey + signature) "
            "outside this folder or over an existing file, e.g. /catalog/uploads/ "
            "(default: no restriction).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        private_key = options["private_key"] or _setting("IMAGEKIT_PRIVATE_KEY")
        public_key = options["public_key"] or _setting("IMAGEKIT_PUBLIC_KEY") or DEFAULT_PUBLIC_KEY
        dev_key = not private_key
        named = _named_transformations(options["named_transformation"])
        try:
            server = ImageKitServer(
                root=options["root"],
                private_key=private_key or DEFAULT_PRIVATE_KEY,
                public_key=public_key,
                host=options["host"],
                port=options["port"],
                endpoint_id=options["endpoint_id"],
                url_endpoint=options["url_endpoint"],
                client_upload_folder=options["client_upload_folder"],
                named_transformations=named,
                quiet=options["verbosity"] < 2,
            )
        except (OSError, ValueError) as e:
            raise CommandError(f"Cannot start the local ImageKit server: {e}") from e

        self.stdout.write(self.style.SUCCESS(f"Local ImageKit server at {server.url}"))
        self.stdout.write(f"  base_url:      {server.url}")
        self.stdout.write(f"  url_endpoint:  {server.url_endpoint}")
        if dev_key:
            # A throwaway key made up here; a configured key is a secret and never printed.
            self.stdout.write(f"  private key:   {server.private_key}")
            self.stdout.write(
                self.style.WARNING(
                    "                 (a dev key: set IMAGEKIT_PRIVATE_KEY to choose)"
                )
            )
        else:
            self.stdout.write("  private key:   the configured one (not shown)")
        self.stdout.write(f"  public key:    {server.public_key}")
        if server.config.client_upload_folder:
            self.stdout.write(
                f"  V1 client-side uploads: only into {server.config.client_upload_folder}, "
                "never overwriting"
            )
        if named:
            self.stdout.write(f"  named transformations: {', '.join(sorted(named))}")
        self.stdout.write(f"  files:         {Path(options['root']).resolve()}")
        self.stdout.write(f"  faults:        POST {server.url}/__faults__ (see /__requests__)")
        self.stdout.write("Quit with CONTROL-C.")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopping.")
        finally:
            server.stop()


def _setting(name: str) -> str:
    # These are project-level settings (config/settings.py), optional in other setups.
    return str(getattr(settings, name, "") or "")


def _named_transformations(values: list[str]) -> dict[str, str]:
    """``["card=w-400,h-300"]`` as a mapping; the server checks each chain."""
    named = {}
    for value in values:
        name, sep, chain = value.partition("=")
        if not sep or not name or not chain:
            raise CommandError(
                f"--named-transformation {value!r}: write NAME=CHAIN, e.g. card=w-400,h-300."
            )
        if name in named:
            raise CommandError(f"--named-transformation: {name!r} is given twice.")
        named[name] = chain
    return named
