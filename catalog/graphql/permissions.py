"""Who may call a mutation, and resolving IDs to rows with field errors."""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from strawberry import relay
from strawberry.types import Info
from strawberry_django.permissions import HasPerm, IsAuthenticated

from catalog.error_codes import CatalogErrorCode
from catalog.visibility import Viewer, visible

SIGN_IN = "Sign in, or send an API token as 'Authorization: Bearer <token>'."


def requires(permission: str) -> list:
    """Extensions for a mutation: an authenticated user holding ``permission``.

    Failures come back as OperationInfo (kind PERMISSION), not as top-level errors.
    """
    # The last extension runs first: authentication, then the permission.
    return [
        HasPerm(permission, message=f"You need the {permission} permission."),
        IsAuthenticated(message=SIGN_IN),
    ]


M = TypeVar("M", bound=models.Model)


def viewer(info: Info) -> Viewer:
    """The user making the request (anonymous included)."""
    return info.context.request.user


def instance_for(global_id: relay.GlobalID, model: type[M], field: str, *, viewer: Viewer) -> M:
    """The row a global ID names, or a ValidationError on ``field`` (codes invalid, not_found).

    Only rows ``viewer`` may see are found: a private image looked up by someone
    who may not see it is "not found", exactly like a missing one.
    """
    label = model._meta.verbose_name
    if global_id.type_name != model.__name__:
        raise ValidationError(
            {
                field: ValidationError(
                    f"This ID is not a {label}'s ID.", code=CatalogErrorCode.INVALID
                )
            }
        )
    try:
        instance = visible(model, viewer).filter(pk=global_id.node_id).first()
    except (TypeError, ValueError, ValidationError) as e:
        # The primary key refused the key part ("abc" for an integer or a UUID key).
        raise ValidationError(
            {
                field: ValidationError(
                    f"This ID is not a {label}'s ID.", code=CatalogErrorCode.INVALID
                )
            }
        ) from e
    if instance is None:
        raise ValidationError(
            {field: ValidationError(f"No {label} has this ID.", code=CatalogErrorCode.NOT_FOUND)}
        )
    return instance
