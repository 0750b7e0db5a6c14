"""The Support group made by the migrations equals the one support_group_ensure restores."""

import pytest
from django.contrib.auth.models import Group

from reconi.roles import SUPPORT_PERMISSIONS, support_group_ensure


@pytest.mark.django_db
def test_migrations_and_support_group_ensure_grant_the_same_permissions():
    from_migrations = {
        (p.content_type.app_label, p.codename)
        for p in Group.objects.get(name="Support").permissions.select_related("content_type")
    }
    expected = {(app, codename) for app, codenames in SUPPORT_PERMISSIONS.items() for codename in codenames}
    assert from_migrations == expected
    Group.objects.filter(name="Support").delete()
    restored = {(p.content_type.app_label, p.codename) for p in support_group_ensure().permissions.all()}
    assert restored == expected


@pytest.mark.django_db
def test_support_staff_may_not_delete_or_change_audit_events():
    group = support_group_ensure()
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert "view_auditevent" in codenames
    assert not {"change_auditevent", "delete_auditevent", "add_auditevent"} & codenames
    assert not any(codename.startswith("delete_") for codename in codenames)
