"""manage.py import_images: folders, sidecar CSVs, CSVs of paths; bad files, duplicates,
re-runs, dry runs, concurrent uploads, progress and summary."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from catalog.models import Category, Image, Product
from tests.conftest import make_image_bytes

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    """(stdout, stderr) of a run that exits 0."""
    out, err = StringIO(), StringIO()
    call_command("import_images", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args) -> tuple[str, str, CommandError]:
    """(stdout, stderr, error) of a run that exits non-zero."""
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_images", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), excinfo.value


def stored_files(media_root: Path) -> list[Path]:
    return sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else []


@pytest.fixture
def photos(tmp_path) -> Path:
    """Two good photos, a corrupt one and a byte-for-byte copy of the first."""
    folder = tmp_path / "photos"
    folder.mkdir()
    first = make_image_bytes((640, 480), color="#2a7f62")
    (folder / "harbour.jpg").write_bytes(first)
    (folder / "ember.png").write_bytes(make_image_bytes((300, 300), fmt="PNG", color="#d9480f"))
    (folder / "corrupt.jpg").write_bytes(first[:600])
    (folder / "second-harbour.jpg").write_bytes(first)
    (folder / ".DS_Store").write_bytes(b"\0")  # hidden: never imported
    return folder


def test_import_images_folder_stores_good_skips_duplicate_fails_corrupt_and_resumes(
    photos, media_root
):
    # when: the first run
    out, err, error = run_failing(photos, "--workers=1")

    # then: good files stored, the copy skipped, the corrupt file failed with the
    # API's message and code, and the exit status says something failed
    assert error.returncode == 1
    assert "1 file(s) failed" in str(error)
    assert sorted(Image.objects.values_list("name", flat=True)) == ["ember", "harbour"]
    assert re.search(r"  second-harbour.jpg: already stored as 'harbour' \(.+\)\.", out)
    assert "  corrupt.jpg: file: The image file is damaged or truncated. (invalid_image)" in out
    assert out.rstrip().endswith("4 file(s): stored 2, skipped 1, failed 1.")
    # progress: counts, rate and ETA, from the start to the end
    assert err.splitlines()[0].startswith("importing: 0/4 (0%)")
    assert re.search(
        r"importing: 4/4 \(100%\) \[[\d:]+<[\d:]+, +[\d.]+file/s\], "
        r"stored 2, skipped 1, failed 1$",
        err.splitlines()[-1],
    ), err
    files = stored_files(media_root)
    assert len(files) == 4  # two originals, two small variants

    # when: run again as is: everything stored is recognised, the corrupt file fails again
    out, _, error = run_failing(photos, "--workers=1")
    assert error.returncode == 1
    assert out.rstrip().endswith("4 file(s): stored 0, skipped 3, failed 1.")
    assert re.search(r"  second-harbour.jpg: already stored as 'harbour' \(.+\)\.", out)

    # when: the corrupt file is taken out and the import re-run
    (photos / "corrupt.jpg").unlink()
    out, _ = run(photos, "--workers=1")

    # then: everything skipped, exit status 0, nothing new stored
    assert out.rstrip().endswith("3 file(s): stored 0, skipped 3, failed 0.")
    assert Image.objects.count() == 2
    assert stored_files(media_root) == files


def test_import_images_sidecar_csv_links_products_at_positions(tmp_path, media_root):
    category = Category.objects.create(name="Bags", slug="bags")
    tote = Product.objects.create(name="Canvas Tote", slug="canvas-tote", category=category)
    folder = tmp_path / "tote"
    folder.mkdir()
    for index, colour in enumerate(["#fab005", "#e67700", "#862e9c"]):
        (folder / f"{index}.jpg").write_bytes(make_image_bytes((200, 150), color=colour))
    (folder / "images.csv").write_text(
        "file,product,alt_text,position,name\n"
        "0.jpg,canvas-tote,Front,2,Tote front\n"
        "1.jpg,canvas-tote,Back,1,\n"
        "2.jpg,no-such-product,Side,3,\n"
        "missing.jpg,canvas-tote,,,\n"
        "1.jpg,canvas-tote,,x,\n"
    )

    out, _, error = run_failing(folder, "--workers=1")

    assert error.returncode == 1
    assert [(link.image.name, link.image.alt_text) for link in tote.product_images.all()] == [
        ("1", "Back"),
        ("Tote front", "Front"),
    ]
    assert "  2.jpg: no product with slug 'no-such-product'." in out
    assert "  missing.jpg: cannot read the file (No such file or directory)." in out
    assert "  1.jpg: line 6: position must be a whole number ≥ 0, not 'x'." in out
    assert out.rstrip().endswith("5 file(s): stored 2, skipped 0, failed 3.")


def test_import_images_csv_of_paths_reads_paths_relative_to_the_csv(tmp_path, media_root):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.jpg").write_bytes(make_image_bytes(color="#111111"))
    (tmp_path / "two.webp").write_bytes(make_image_bytes(fmt="WEBP", color="#222222"))
    listing = tmp_path / "list.csv"
    listing.write_text("file,alt_text\na/one.jpg,One\ntwo.webp,Two\n")

    out, _ = run(listing, "--workers=1")

    assert out.rstrip().endswith("2 file(s): stored 2, skipped 0, failed 0.")
    assert sorted(Image.objects.values_list("name", "alt_text", "mime_type")) == [
        ("one", "One", "image/jpeg"),
        ("two", "Two", "image/webp"),
    ]


def test_import_images_dry_run_checks_every_file_and_stores_nothing(photos, media_root):
    out, err, error = run_failing(photos, "--dry-run", "--workers=1")

    assert error.returncode == 1
    assert "  corrupt.jpg: file: The image file is damaged or truncated. (invalid_image)" in out
    assert out.rstrip().endswith(
        "4 file(s): would store 2, skipped 1, failed 1. Dry run: nothing was stored."
    )
    assert "checking: 4/4" in err
    assert Image.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's in-memory test database locks whole tables, so concurrent writers fail "
    "instead of waiting; the command-line test covers SQLite with a file database",
)
def test_import_images_concurrent_uploads_make_one_image_per_content(tmp_path, media_root):
    folder = tmp_path / "many"
    folder.mkdir()
    same = make_image_bytes((120, 90), color="#0ca678")
    for index in range(4):
        (folder / f"same-{index}.jpg").write_bytes(same)
    for index in range(6):
        colour = f"#{index * 40:02x}3060"
        (folder / f"other-{index}.jpg").write_bytes(make_image_bytes((120, 90), color=colour))

    out, _ = run(folder, "--workers=4")

    assert out.rstrip().endswith("10 file(s): stored 7, skipped 3, failed 0.")
    assert Image.objects.count() == 7
    assert Image.objects.values("checksum").distinct().count() == 7


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,alt_text\nx.jpg,X\n", "needs a header row with a `file` column"),
        ("file,colour\nx.jpg,red\n", "unknown column(s) 'colour'"),
    ],
)
def test_import_images_unreadable_csv_is_a_command_error(tmp_path, content, message):
    listing = tmp_path / "list.csv"
    listing.write_text(content)

    _, _, error = run_failing(listing)

    assert message in str(error)
    assert Image.objects.count() == 0


def test_import_images_missing_source_is_a_command_error(tmp_path):
    _, _, error = run_failing(tmp_path / "nowhere")

    assert "is neither a folder nor a CSV file" in str(error)


def test_import_images_skips_a_file_uploaded_through_the_api(
    tmp_path, client, editor_token, media_root
):
    from tests.utils import multipart_upload

    content = make_image_bytes((320, 240), color="#5f3dc4")
    response = multipart_upload(
        client,
        'mutation($file: Upload!) { uploadImage(file: $file, name: "From API") { __typename } }',
        content=content,
        Authorization=f"Bearer {editor_token}",
    )
    assert response.json()["data"]["uploadImage"]["__typename"] == "Image"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "same.jpg").write_bytes(content)

    out, _ = run(tmp_path / "in", "--workers=1")

    assert re.search(r"  same.jpg: already stored as 'From API' \(.+\)\.", out)
    assert Image.objects.count() == 1


def test_import_images_command_line_uploads_concurrently_and_exits_with_the_outcome(
    photos, tmp_path
):
    # given: the real command in its own process, on a SQLite file database
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "import-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    manage = [sys.executable, str(Path(__file__).parents[2] / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, timeout=120)
    for index in range(4):
        (photos / f"extra-{index}.jpg").write_bytes(
            make_image_bytes((160, 120), color=f"#{index * 50:02x}4080")
        )

    def import_images():
        return subprocess.run(
            [*manage, "import_images", str(photos), "--workers=4"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    # when: eight files at once, one corrupt and one a copy
    first = import_images()

    # then: exit status 1, the summary on stdout, plain progress lines on stderr
    assert first.returncode == 1, first.stderr
    assert first.stdout.rstrip().endswith("8 file(s): stored 6, skipped 1, failed 1.")
    assert "CommandError: 1 file(s) failed" in first.stderr
    assert "importing: 8/8 (100%)" in first.stderr
    assert "\r" not in first.stderr

    # when: the corrupt file is removed and the import run again
    (photos / "corrupt.jpg").unlink()
    second = import_images()

    # then: everything skipped, exit status 0
    assert second.returncode == 0, second.stderr
    assert second.stdout.rstrip().endswith("7 file(s): stored 0, skipped 7, failed 0.")
