"""Support no longer views second factors in the admin: their rows hold the secrets.

Whether a person has a second factor shows on the user's page instead (its type, never its data).
"""

from django.db import migrations

REMOVED = {"mfa": ["view_authenticator", "change_authenticator", "add_authenticator", "delete_authenticator"]}


def remove_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Support").first()
    if group is None:
        return
    for app_label, codenames in REMOVED.items():
        group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("organizations", "0007_support_branches")]

    operations = [migrations.RunPython(remove_permissions, migrations.RunPython.noop)]
