"""The Support group, completed for the admin (0003 stays as it was).

Support links users (add membership) and withdraws manager roles (an admin
action, which needs the change permission); it may look at, never edit, login
addresses, second factors and groups. Audit events stay view-only.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADDED_PERMISSIONS = {
    "organizations": ["add_membership", "change_membership"],
    "account": ["view_emailaddress"],
    "mfa": ["view_authenticator"],
    "auth": ["view_group"],
}


def add_permissions(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Support")
    for app_label, codenames in ADDED_PERMISSIONS.items():
        perms = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        missing = set(codenames) - set(perms.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Missing permissions for the Support group: {sorted(missing)}")
        group.permissions.add(*perms)


def remove_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Support").first()
    if group is None:
        return
    for app_label, codenames in ADDED_PERMISSIONS.items():
        group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0003_support_group"),
        ("account", "0009_emailaddress_unique_primary_email"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(add_permissions, remove_permissions)]
