"""Human names of the outbox's email kinds (the template names), for support."""

from django.utils.translation import gettext_lazy as _

EMAIL_KIND_LABELS = {
    "appointment_approved": _("Appointment approved"),
    "authorization_revoked": _("Authorization revoked"),
    "link_request": _("Link request"),
    "link_request_answered": _("Link request answered"),
    "means_issued": _("Means issued (welcome)"),
    "means_renewal_approve": _("Means renewal to approve"),
    "means_renewed": _("Means renewed"),
    "means_upgraded": _("Means upgraded"),
    "new_means_representative": _("New means: notice to the representative"),
    "renewal_reminder_manager": _("Renewal reminder to a manager"),
    "renewal_reminder_user": _("Renewal reminder to a user"),
    "request_decided": _("Request decided"),
    "signing_code": _("Signing code"),
    "signing_completed": _("Form signed"),
    "signing_request": _("Request to sign"),
}


def email_kind_label(code: str) -> str:
    return str(EMAIL_KIND_LABELS.get(code, code))
