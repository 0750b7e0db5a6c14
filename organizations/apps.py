from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_support_group(sender, using="default", **kwargs):
    # post_migrate is sent once per app; the last one sees every permission.
    from django.apps import apps

    if sender.label != list(apps.get_app_configs())[-1].label:
        return
    from reconi.roles import support_group_ensure

    support_group_ensure(using)


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Organisations")

    def ready(self):
        post_migrate.connect(_ensure_support_group, dispatch_uid="reconi_support_group")
