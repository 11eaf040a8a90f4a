from __future__ import annotations

import pytest

from media_store.imagekit_server.checks import (
    CheckSyntaxError,
    UnsupportedCheckError,
    UploadedFacts,
    parse_checks,
    passes,
)

JPEG_1K = UploadedFacts(size=1000, mime="image/jpeg")
PDF_30M = UploadedFacts(size=30 * 1024 * 1024, mime="application/pdf")


@pytest.mark.parametrize(
    ("checks", "small_jpeg", "large_pdf"),
    [
        ('"file.size" <= 26214400', True, False),
        ('"file.size" < 25mb', True, False),
        ("'file.size' < '1MB'", True, False),
        ('"file.size" > "10kb"', False, True),
        ('"file.size" >= 1000', True, True),
        ('"file.size" = 1000', True, False),
        ('"file.mime" = "image/jpeg"', True, False),
        ('"file.mime" NOT = "image/jpeg"', False, True),
        ('"file.mime" : "image/"', True, False),
        ('"file.mime" IN ["image/jpeg", "image/png"]', True, False),
        ('"file.mime" NOT IN ["image/jpeg"]', False, True),
        ('"file.size" <= 26214400 AND "file.mime" IN ["image/jpeg"]', True, False),
        ('"file.size" > 1 and "file.mime" : "application"', False, True),
    ],
)
def test_checks_evaluate(checks: str, small_jpeg: bool, large_pdf: bool) -> None:
    parsed = parse_checks(checks)

    assert (passes(parsed, JPEG_1K), passes(parsed, PDF_30M)) == (small_jpeg, large_pdf)


@pytest.mark.parametrize(
    ("checks", "error"),
    [
        ("", CheckSyntaxError),
        ("file.size < 3", CheckSyntaxError),
        ('"file.size" <', CheckSyntaxError),
        ('"file.size" < 3 AND', CheckSyntaxError),
        ('"file.size" < 3x', CheckSyntaxError),
        ('"file.size" < "big"', CheckSyntaxError),
        ('"file.mime" IN "image/jpeg"', CheckSyntaxError),
        ('"file.mime" IN ["image/jpeg"', CheckSyntaxError),
        ('"file.size" < 3 "file.size" > 1', CheckSyntaxError),
        ('"file.size" < 3 OR "file.size" > 1', UnsupportedCheckError),
        ('("file.size" < 3)', UnsupportedCheckError),
        ('"request.folder" : "marketing/"', UnsupportedCheckError),
        ('"mediaMetadata.width" < 500', UnsupportedCheckError),
        ('"file.size" IN ["1"]', UnsupportedCheckError),
        ('"file.mime" > "image"', UnsupportedCheckError),
    ],
)
def test_checks_refused(checks: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_checks(checks)
