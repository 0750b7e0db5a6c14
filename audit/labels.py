"""Human names of the audit log's action codes, for support (the codes stay in the log)."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "access.denied": _("Access refused"),
    "authorization.grant": _("Authorization granted"),
    "authorization.reactivate": _("Authorization reactivated"),
    "authorization.renew": _("Authorization renewed"),
    "authorization.revoke": _("Authorization revoked"),
    "catalogue.load": _("Service catalogue loaded"),
    "demo.backdate": _("Demo data backdated"),
    "email.resend": _("Email sent again"),
    "manager.appoint": _("Manager appointed"),
    "manager.withdraw": _("Manager role withdrawn"),
    "means.issue": _("Means issued"),
    "means.renew": _("Means renewed"),
    "means.upgrade": _("Means upgraded"),
    "membership.link": _("User linked to organisation"),
    "organization.change": _("Organisation changed"),
    "organization.create": _("Organisation created"),
    "representative.add": _("Representative added"),
    "request.approve": _("Request approved"),
    "request.ask_manager": _("Manager asked to sign"),
    "request.cancel": _("Request cancelled"),
    "request.create": _("Request made"),
    "request.email_resend": _("Request email sent again"),
    "request.fulfil": _("Request fulfilled"),
    "request.identity_check": _("Identity check recorded"),
    "request.link_accept": _("Link accepted"),
    "request.link_ask": _("Link requested"),
    "request.link_decline": _("Link declined"),
    "request.means": _("Means requested"),
    "request.reject": _("Request rejected"),
    "request.send_for_signature": _("Sent for signature"),
    "request.sign": _("Form signed"),
    "request.submit": _("Form submitted"),
    "user.create": _("User created"),
    "user.language_set": _("Language changed"),
}


def action_label(code: str) -> str:
    """The action's name for people; an unknown code is shown as it is."""
    return str(ACTION_LABELS.get(code, code))
