"""A user's permissions in one query (accounts.backends): the set Django's ModelBackend reads."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from accounts.backends import OneQueryModelBackend

pytestmark = pytest.mark.django_db


def permission(codename: str) -> Permission:
    return Permission.objects.get(codename=codename)


@pytest.fixture
def member(django_user_model):
    """Permissions of their own, and through two groups (one shared with the user's own)."""
    user = django_user_model.objects.create_user("member")
    user.user_permissions.add(permission("add_image"), permission("change_product"))
    editors, viewers = Group.objects.create(name="editors"), Group.objects.create(name="viewers")
    editors.permissions.add(permission("change_image"), permission("add_image"))
    viewers.permissions.add(permission("view_category"))
    user.groups.add(editors, viewers)
    # Another group and user, whose permissions must not leak in.
    Group.objects.create(name="others").permissions.add(permission("delete_product"))
    django_user_model.objects.create_user("other").user_permissions.add(permission("delete_image"))
    return user


def fresh(user):
    return type(user).objects.get(pk=user.pk)  # no permission cache


def test_own_and_group_permissions_in_one_query(member, django_assert_num_queries):
    user = fresh(member)
    with django_assert_num_queries(1):
        found = OneQueryModelBackend().get_all_permissions(user)

    assert found == {
        "catalog.add_image",
        "catalog.change_product",
        "catalog.change_image",
        "catalog.view_category",
    }
    assert found == ModelBackend().get_all_permissions(fresh(member))


def test_answer_is_kept_for_the_request(member, django_assert_num_queries):
    user = fresh(member)
    backend = OneQueryModelBackend()
    backend.get_all_permissions(user)

    with django_assert_num_queries(0):
        assert backend.has_perm(user, "catalog.change_image")
        assert not backend.has_perm(user, "catalog.delete_image")


def test_superuser_has_every_permission(django_user_model, django_assert_num_queries):
    root = django_user_model.objects.create_superuser("root", password="root-pass-123")

    user = fresh(root)
    with django_assert_num_queries(1):
        found = OneQueryModelBackend().get_all_permissions(user)

    assert len(found) == Permission.objects.count()
    assert "catalog.delete_image" in found


@pytest.mark.parametrize("case", ["inactive", "anonymous", "object"])
def test_no_permissions_without_a_query(member, case, django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    user = fresh(member)
    obj = None
    if case == "inactive":
        user.is_active = False
    elif case == "anonymous":
        user = AnonymousUser()
    else:
        obj = object()

    with django_assert_num_queries(0):
        assert OneQueryModelBackend().get_all_permissions(user, obj) == set()


def test_settings_use_it(settings):
    assert "accounts.backends.OneQueryModelBackend" in settings.AUTHENTICATION_BACKENDS
    assert "django.contrib.auth.backends.ModelBackend" not in settings.AUTHENTICATION_BACKENDS
