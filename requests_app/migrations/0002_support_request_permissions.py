"""Support staff review requests in the admin: see them with their signatures and links, and act on them (change)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = ["view_request", "change_request", "view_signature", "view_signingtoken"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("requests_app")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Support")
    permissions = Permission.objects.filter(content_type__app_label="requests_app", codename__in=PERMISSIONS)
    missing = set(PERMISSIONS) - set(permissions.values_list("codename", flat=True))
    if missing:
        raise RuntimeError(f"Missing permissions for the Support group: {sorted(missing)}")
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Support").first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="requests_app", codename__in=PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0001_initial"),
        ("organizations", "0003_support_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
