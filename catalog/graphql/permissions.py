"""Who may call a mutation, and resolving IDs to rows with field errors."""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import models
from strawberry import relay
from strawberry_django.permissions import HasPerm, IsAuthenticated

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


def instance_for(
    global_id: relay.GlobalID, model: type[M], field: str, type_name: str | None = None
) -> M:
    """The row a global ID names, or a ValidationError on ``field`` (codes invalid, not_found)."""
    label = model._meta.verbose_name
    if global_id.type_name != (type_name or model.__name__):
        raise ValidationError(
            {field: ValidationError(f"This ID is not a {label}'s ID.", code="invalid")}
        )
    try:
        instance = model._default_manager.filter(pk=global_id.node_id).first()
    except (TypeError, ValueError, ValidationError) as e:
        # The primary key refused the key part ("abc" for an integer or a UUID key).
        raise ValidationError(
            {field: ValidationError(f"This ID is not a {label}'s ID.", code="invalid")}
        ) from e
    if instance is None:
        raise ValidationError(
            {field: ValidationError(f"No {label} has this ID.", code="not_found")}
        )
    return instance
