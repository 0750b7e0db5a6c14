from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from reconi.health import detail_register
        from reconi.metrics import gauges_register

        from .metrics import outbox_gauges
        from .selectors import outbox_backlog

        detail_register("outbox", outbox_backlog)
        gauges_register(outbox_gauges)
