from __future__ import annotations

import strawberry
import strawberry_django
from django.db import transaction
from strawberry import relay
from strawberry.file_uploads import Upload
from strawberry.types import Info

from catalog import models
from catalog.direct_uploads import direct_upload_storage, register_uploaded_image
from catalog.graphql.inputs import DeletedNode
from catalog.graphql.permissions import instance_for, requires
from catalog.graphql.types import ImageType
from catalog.uploads import create_image, replace_image_file


@strawberry.type
class ImageUploadAuth:
    """Parameters for one browser upload straight to ImageKit's upload API."""

    token: str
    expire: int = strawberry.field(description="Unix time after which they are refused.")
    signature: str = strawberry.field(description="HMAC-SHA1 of token + expire.")
    public_key: str
    url_endpoint: str
    folder: str = strawberry.field(description="Upload into this folder: others are refused.")


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
            None if product_id is None else instance_for(product_id, models.Product, "product_id")
        )
        return create_image(
            file=file,
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
        image = instance_for(id, models.Image, "id")
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
        image = instance_for(id, models.Image, "id")
        with transaction.atomic():
            image.delete()
        return DeletedNode(id=id)

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.add_image"),
        description="With ImageKit on: parameters for a browser to upload straight to ImageKit.",
    )
    def imagekit_upload_auth(self, info: Info) -> ImageUploadAuth:
        params = direct_upload_storage().upload_auth()
        return ImageUploadAuth(**params)

    @strawberry_django.mutation(
        handle_django_errors=True,
        extensions=requires("catalog.add_image"),
        description=(
            "Register a file a browser uploaded straight to ImageKit: it is checked like an "
            "upload (decoded in full), gets its small variant, and becomes an Image."
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
            None if product_id is None else instance_for(product_id, models.Product, "product_id")
        )
        return register_uploaded_image(
            file_id=file_id,
            created_by=info.context.request.user,
            alt_text=alt_text or "",
            name=name or "",
            product=product,
        )
