from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from reconi.health import detail_register

        from .selectors import outbox_backlog

        detail_register("outbox", outbox_backlog)
