from __future__ import annotations

import strawberry
import strawberry_django
from django.core.exceptions import ValidationError
from strawberry import relay
from strawberry.file_uploads import Upload
from strawberry.types import Info
from strawberry_django.permissions import HasPerm, IsAuthenticated

from catalog import models
from catalog.graphql.types import ImageType
from catalog.uploads import create_image


def _product_for(info: Info, product_id: relay.GlobalID | None) -> models.Product | None:
    if product_id is None:
        return None
    if product_id.type_name != "Product":
        raise ValidationError(
            {"product_id": ValidationError("This ID is not a product's ID.", code="invalid")}
        )
    product = models.Product.objects.filter(pk=product_id.node_id).first()
    if product is None:
        raise ValidationError(
            {"product_id": ValidationError("No product has this ID.", code="not_found")}
        )
    return product


@strawberry.type
class Mutation:
    @strawberry_django.mutation(
        handle_django_errors=True,
        # The last extension runs first: authentication, then the permission.
        extensions=[
            HasPerm("catalog.add_image", message="You need the catalog.add_image permission."),
            IsAuthenticated(
                message="Sign in, or send an API token as 'Authorization: Bearer <token>'."
            ),
        ],
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
        product = _product_for(info, product_id)
        return create_image(
            file=file,
            created_by=info.context.request.user,
            alt_text=alt_text or "",
            name=name or "",
            product=product,
            is_private=is_private,
        )
