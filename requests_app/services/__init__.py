"""Writes on requests, one module a topic; import the public names from here.

Every service is keyword-only, runs in one transaction, locks the request row
when it changes one, records an audit event and sends its emails through the
notifications outbox.

- ``core``: creating and cancelling a request and the helpers every module shares
  (locking, status transitions, audit events, portal links, emails about a request);
- ``checks``: checking the people on a new-means form (reads);
- ``signatures``: the form as PDF, signing it, handing it to support;
- ``appointments``: "Become an authorization manager";
- ``means``: new means and upgrades asked for by a manager;
- ``renewals``: a holder renews their means (manager approves, or representative signs and support fulfils);
- ``links``: linking a user to another organisation;
- ``support``: support's queue (identity check, approve, reject, fulfil, resend).
"""

from .appointments import appointment_apply, appointment_approve
from .checks import (
    IDENTITY_CHECK_FROM,
    MIN_AGE_YEARS,
    PERSON_FIELDS,
    PHONE_RE,
    missing_identity_checks,
    needs_identity_check,
    organization_has_manager,
    people_check,
    people_check_record,
    people_visible_to,
    person_check,
    same_person,
)
from .core import request_cancel, request_create
from .links import link_request_accept, link_request_create, link_request_decline, linkable_users
from .means import means_request_create, means_request_create_bulk, upgrade_request_create
from .renewals import (
    means_renewal_approve,
    means_renewal_request_create,
    open_renewal_for,
    renewal_approvers,
)
from .signatures import (
    SIGNED_KINDS,
    request_send_for_signature,
    request_sign_as_manager,
    request_sign_as_representative,
    request_submit,
)
from .support import (
    identity_check_record,
    request_approve,
    request_email_resend,
    request_fulfil,
    request_reject,
)

__all__ = [
    "IDENTITY_CHECK_FROM",
    "MIN_AGE_YEARS",
    "PERSON_FIELDS",
    "PHONE_RE",
    "SIGNED_KINDS",
    "appointment_apply",
    "appointment_approve",
    "identity_check_record",
    "link_request_accept",
    "link_request_create",
    "link_request_decline",
    "linkable_users",
    "means_request_create",
    "means_request_create_bulk",
    "means_renewal_approve",
    "means_renewal_request_create",
    "open_renewal_for",
    "renewal_approvers",
    "missing_identity_checks",
    "needs_identity_check",
    "organization_has_manager",
    "people_check",
    "people_check_record",
    "people_visible_to",
    "person_check",
    "request_approve",
    "request_cancel",
    "request_create",
    "request_email_resend",
    "request_fulfil",
    "request_reject",
    "request_send_for_signature",
    "request_sign_as_manager",
    "request_sign_as_representative",
    "request_submit",
    "same_person",
    "upgrade_request_create",
]
