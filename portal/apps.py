from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The pages people use: My Reconi home and the Manage tab. The top layer: no models."""

    name = "portal"
    verbose_name = _("Portal pages")
