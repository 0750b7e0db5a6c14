"""Support staff: who counts as support, and the Support group's permissions.

Manager roles belong to organisations: ``organizations.roles``.
"""

from django.core.exceptions import PermissionDenied

SUPPORT_GROUP = "Support"
SUPPORT_PERMISSION = "organizations.act_as_support"


def is_support(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and user.has_perm(SUPPORT_PERMISSION)
    )


def require_support(actor) -> None:
    if not is_support(actor):
        raise PermissionDenied("Only support staff can do this.")


# What the Support group may do. The migrations that created the group
# (organizations 0003/0004/0007, requests_app 0002, notifications 0002) hold the same
# lists; a test pins them equal. This copy restores the group after a test flush.
SUPPORT_PERMISSIONS = {
    "organizations": [
        "view_organization",
        "add_organization",
        "change_organization",
        "view_representative",
        "add_representative",
        "change_representative",
        "view_membership",
        "add_membership",
        "change_membership",
        "act_as_support",
        "view_branch",
        "add_branch",
        "change_branch",
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
    "account": ["view_emailaddress"],
    "auth": ["view_group"],
    "requests_app": ["view_request", "change_request", "view_signature", "view_signingtoken"],
    "notifications": ["view_outboxemail", "change_outboxemail", "view_outboxattachment", "view_renewalreminder"],
}


def support_group_ensure(using: str = "default"):
    """The Support group with its permissions, created when missing (idempotent).

    Migrations create it; seed_demo and the tests call this because a test
    database flush empties the group table (and sometimes the permissions).
    """
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.management import create_contenttypes

    wanted = [(app, codename) for app, codenames in SUPPORT_PERMISSIONS.items() for codename in codenames]
    permissions = Permission.objects.using(using).filter(
        content_type__app_label__in=SUPPORT_PERMISSIONS, codename__in=[c for _a, c in wanted]
    )
    if permissions.count() < len(wanted):
        for app_config in apps.get_app_configs():
            create_contenttypes(app_config, verbosity=0, using=using)
            create_permissions(app_config, verbosity=0, using=using)
    group, _created = Group.objects.using(using).get_or_create(name=SUPPORT_GROUP)
    by_key = {(p.content_type.app_label, p.codename): p for p in permissions.select_related("content_type")}
    group.permissions.add(*[by_key[key] for key in wanted if key in by_key])
    return group
