from __future__ import annotations

import strawberry
import strawberry_django
from strawberry import relay
from strawberry.file_uploads import Upload
from strawberry.types import Info

from catalog import models
from catalog.graphql.permissions import instance_for, requires
from catalog.graphql.types import ImageType
from catalog.uploads import create_image


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
