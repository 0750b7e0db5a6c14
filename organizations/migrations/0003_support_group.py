"""The Support group: what support staff may see and do in the admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_PERMISSIONS = {
    "organizations": [
        "view_organization",
        "add_organization",
        "change_organization",
        "view_representative",
        "add_representative",
        "change_representative",
        "view_membership",
        "act_as_support",
    ],
    "users": ["view_user", "add_user", "change_user", "view_means", "add_means", "change_means"],
    "authorizations": [
        "view_serviceprovider",
        "add_serviceprovider",
        "change_serviceprovider",
        "view_service",
        "add_service",
        "change_service",
        "view_authorization",
        "add_authorization",
        "change_authorization",
    ],
    "audit": ["view_auditevent"],
}


def create_support_group(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Support")
    for app_label, codenames in SUPPORT_PERMISSIONS.items():
        perms = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        missing = set(codenames) - set(perms.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Missing permissions for the Support group: {sorted(missing)}")
        group.permissions.add(*perms)


def remove_support_group(apps, schema_editor):
    # Take back the permissions only: deleting the group runs the deletion collector over
    # historical models of other apps' states ("Must be a Group instance") in some orders
    # of rolling back; like content types and permissions, an empty group may stay.
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Support").first()
    if group is None:
        return
    for app_label, codenames in SUPPORT_PERMISSIONS.items():
        group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0002_initial"),
        ("users", "0001_initial"),
        ("authorizations", "0002_initial"),
        ("audit", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_support_group, remove_support_group)]
