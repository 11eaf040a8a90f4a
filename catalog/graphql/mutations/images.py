from __future__ import annotations

import strawberry
import strawberry_django
from django.db import transaction
from strawberry import relay
from strawberry.file_uploads import Upload
from strawberry.types import Info

from catalog import models
from catalog.direct_uploads import direct_upload_auth, register_uploaded_image
from catalog.graphql.inputs import DeletedNode
from catalog.graphql.permissions import instance_for, requires, viewer
from catalog.graphql.types import ImageType
from catalog.uploads import NewFile, add_image, replace_image_file


@strawberry.type
class UploadFormField:
    """One text part of the upload form: send it as is."""

    name: str
    value: str


@strawberry.type(
    description=(
        "One browser upload straight to ImageKit's upload API V2. POST a multipart/form-data "
        "body to `uploadUrl` with exactly the text parts in `formFields`, unchanged, and the "
        "file as the part `file`; then register the answer's `fileId` with "
        "registerUploadedImage. ImageKit refuses any other field or value, a second upload "
        "with the same token, and a file that fails `checks`."
    )
)
class ImageUploadAuth:
    upload_url: str = strawberry.field(description="POST the multipart/form-data body here.")
    form_fields: list[UploadFormField] = strawberry.field(
        description=(
            "Every text part to send, in this order (token included): exactly these names "
            "and values, nothing added. The file goes after them as the part `file`."
        )
    )
    token: str = strawberry.field(
        description=(
            "Form field `token`: a JWT the server signed over the other form fields. "
            "Valid for one upload, until `expire`."
        )
    )
    expire: int = strawberry.field(
        description="Unix time after which ImageKit refuses the token: ask for a new one."
    )
    file_name: str = strawberry.field(
        description=(
            "Form field `fileName`: the name the server chose (your file name only picked "
            "its extension). The file is stored as `folder` + `fileName`."
        )
    )
    folder: str = strawberry.field(description="Form field `folder`: send as is.")
    use_unique_file_name: str = strawberry.field(
        description='Form field `useUniqueFileName`: send as is ("false").'
    )
    overwrite_file: str = strawberry.field(
        description='Form field `overwriteFile`: send as is ("false": never replaces a file).'
    )
    checks: str = strawberry.field(
        description=(
            "Form field `checks`: send as is. ImageKit refuses a file over the size limit "
            "or of a type other than JPEG, PNG, WebP, GIF or AVIF."
        )
    )
    public_key: str = strawberry.field(
        description="The ImageKit public key the token names (its `kid`). Not a form field."
    )
    url_endpoint: str = strawberry.field(
        description="ImageKit URL endpoint the uploaded file is served from. Not a form field."
    )


@strawberry.type
class ImageMutation:
    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.add_image"),
        description=(
            "Upload an image (GraphQL multipart request). Stores the original and a small "
            "variant, and appends the image to the product when `productId` is given."
        ),
    )
    def upload_image(
        self,
        info: Info,
        file: Upload,
        alt_text: str | None = "",
        name: str | None = "",
        product_id: relay.GlobalID | None = None,
        is_private: bool = False,
    ) -> ImageType:
        product = (
            None
            if product_id is None
            else instance_for(product_id, models.Product, "product_id", viewer=viewer(info))
        )
        return add_image(
            NewFile(file),
            created_by=info.context.request.user,
            alt_text=alt_text or "",
            name=name or "",
            product=product,
            is_private=is_private,
        )

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.change_image"),
        description=(
            "Change an image's alt text or name, or replace its file: a new file gets new "
            "names, a new small variant and placeholder; the old files are deleted after commit."
        ),
    )
    def update_image(
        self,
        info: Info,
        id: relay.GlobalID,
        alt_text: str | None = None,
        name: str | None = None,
        file: Upload | None = None,
    ) -> ImageType:
        image = instance_for(id, models.Image, "id", viewer=viewer(info))
        if alt_text is not None:
            image.alt_text = alt_text
        if name is not None:
            image.name = name
        if file is not None:
            replace_image_file(image, file)
        else:
            image.full_clean()
            image.save()
        return image

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.delete_image"),
        description="Delete an image; its files are deleted after commit.",
    )
    def delete_image(self, info: Info, id: relay.GlobalID) -> DeletedNode:
        image = instance_for(id, models.Image, "id", viewer=viewer(info))
        with transaction.atomic():
            image.delete()
        return DeletedNode(id=id)

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.add_image"),
        description=(
            "With ImageKit on: a single-use token and the form fields for a browser to upload "
            "one image straight to ImageKit (upload API V2). `fileName`, the browser's name for "
            "the file, only picks the extension (JPEG, PNG, WebP, GIF or AVIF; default jpg)."
        ),
    )
    def imagekit_upload_auth(self, info: Info, file_name: str | None = None) -> ImageUploadAuth:
        auth = direct_upload_auth(file_name=file_name or "")
        return ImageUploadAuth(
            upload_url=auth.upload_url,
            form_fields=[
                UploadFormField(name=name, value=value) for name, value in auth.form_fields.items()
            ],
            token=auth.token,
            expire=auth.expire,
            file_name=auth.fields["fileName"],
            folder=auth.fields["folder"],
            use_unique_file_name=auth.fields["useUniqueFileName"],
            overwrite_file=auth.fields["overwriteFile"],
            checks=auth.fields["checks"],
            public_key=auth.public_key,
            url_endpoint=auth.url_endpoint,
        )

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.add_image"),
        description=(
            "Register a file a browser uploaded straight to ImageKit (the `fileId` of "
            "ImageKit's answer): it is checked like an upload (decoded in full), gets its "
            "small variant, and becomes an Image. A file becomes one Image only: registering "
            "it again is refused (code already_registered)."
        ),
    )
    def register_uploaded_image(
        self,
        info: Info,
        file_id: str,
        alt_text: str | None = "",
        name: str | None = "",
        product_id: relay.GlobalID | None = None,
    ) -> ImageType:
        product = (
            None
            if product_id is None
            else instance_for(product_id, models.Product, "product_id", viewer=viewer(info))
        )
        return register_uploaded_image(
            file_id=file_id,
            created_by=info.context.request.user,
            alt_text=alt_text or "",
            name=name or "",
            product=product,
        )
