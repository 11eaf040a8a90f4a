"""Scalars whose parsing the catalog tightens."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from strawberry.file_uploads import Upload
from strawberry.types.scalar import scalar


def _parse_upload(value: Any) -> UploadedFile:
    # strawberry's own Upload passes any value through, so a JSON string sent
    # where a file belongs reached the resolvers (and failed there with a 500).
    if isinstance(value, UploadedFile):
        return value
    raise ValueError(
        "Upload takes a file: send a GraphQL multipart request with the variable set "
        "to null in `operations` and mapped to a file part in `map`."
    )


# Same name and description as strawberry's, so the schema does not change.
CheckedUpload = scalar(
    name="Upload",
    description="Represents a file upload.",
    serialize=lambda value: value,
    parse_value=_parse_upload,
)

SCALAR_OVERRIDES = {Upload: CheckedUpload}
