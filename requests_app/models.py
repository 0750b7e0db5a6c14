"""Requests (the forms an organisation files) and their signatures.

A Request is one form: new means for one or several people, an upgrade, new
authorizations, linking a user to another organisation, appointing an
authorization manager or renewing a means. Its ``payload`` holds what the form
says, one typed schema per kind (``requests_app.payloads``): written through
``set_payload`` and validated by ``clean``, read through ``payload_for_<kind>()``.
The columns hold what the workflow, the lists and the support queue filter on.

The generated form and its signed versions are files in the ``forms`` storage
(``STORAGES["forms"]``), named by their SHA-256, which the row keeps too: a file
that no longer matches its hash is never handed out.
"""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reconi.levels import AssuranceLevel

from . import payloads


def forms_storage():
    """Generated and signed forms: private (never served by URL), any backend by ``STORAGES["forms"]``."""
    return storages["forms"]


def form_file_name(instance, filename: str) -> str:
    return f"requests/{instance.created_at:%Y}/{filename}"


class TamperedFile(Exception):
    """A stored form no longer matches the SHA-256 its row keeps."""


class RequestKind(models.TextChoices):
    NEW_MEANS = "new_means", _("New means")
    UPGRADE = "upgrade", _("Upgrade of a means")
    NEW_AUTHORIZATIONS = "new_authorizations", _("New authorizations")
    LINK_USER = "link_user", _("Link a user to an organisation")
    APPOINT_MANAGER = "appoint_manager", _("Appointment of an authorization manager")
    MEANS_RENEWAL = "means_renewal", _("Renewal of a means")


class RequestStatus(models.TextChoices):
    """Where a request is in its workflow; the model's constraint admits exactly these."""

    DRAFT = "draft", _("Draft")
    AWAITING_SIGNATURE = "awaiting_signature", _("Awaiting signature")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    FULFILLED = "fulfilled", _("Fulfilled")
    CANCELLED = "cancelled", _("Cancelled")


class Request(models.Model):
    Kind = RequestKind
    Status = RequestStatus

    class IdentityMethod(models.TextChoices):
        COPY_OF_ID = "copy_of_id", _("Copy of ID")
        FACE_TO_FACE = "face_to_face", _("Face to face")
        VIDEO = "video", _("Video call")

    class DocumentType(models.TextChoices):
        PASSPORT = "passport", _("Passport")
        ID_CARD = "id_card", _("Identity card")
        DRIVING_LICENCE = "driving_licence", _("Driving licence")
        RESIDENCE_PERMIT = "residence_permit", _("Residence permit")

    # The workflow, in one place: every status change goes through
    # ``can_transition_to`` (services call ``requests_app.services.core._transition``).
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.DRAFT: frozenset({Status.AWAITING_SIGNATURE, Status.SUBMITTED, Status.CANCELLED}),
        Status.AWAITING_SIGNATURE: frozenset({Status.SUBMITTED, Status.CANCELLED}),
        Status.SUBMITTED: frozenset({Status.APPROVED, Status.REJECTED, Status.CANCELLED}),
        Status.APPROVED: frozenset({Status.FULFILLED, Status.CANCELLED}),
        Status.REJECTED: frozenset(),
        Status.FULFILLED: frozenset(),
        Status.CANCELLED: frozenset(),
    }
    OPEN_STATUSES = (Status.DRAFT, Status.AWAITING_SIGNATURE, Status.SUBMITTED, Status.APPROVED)

    number = models.CharField(_("form number"), max_length=20, unique=True, null=True, blank=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests_created",
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.DRAFT)
    payload = models.JSONField(_("form content"), default=dict, blank=True)
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("about"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests_about",
        help_text=_("The person the request is about: the user to link, upgrade or appoint."),
    )
    level = models.CharField(_("level"), max_length=4, choices=AssuranceLevel, blank=True)
    language = models.CharField(_("form language"), max_length=2, choices=settings.LANGUAGES, default="nl")
    signatures_required = models.PositiveSmallIntegerField(_("signatures required"), default=1)
    reason = models.TextField(_("reason"), blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)

    identity_method = models.CharField(_("identity check"), max_length=20, choices=IdentityMethod, blank=True)
    identity_document_type = models.CharField(_("document type"), max_length=20, choices=DocumentType, blank=True)
    identity_document_last4 = models.CharField(_("document number, last four characters"), max_length=4, blank=True)
    identity_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("identity checked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    identity_checked_at = models.DateTimeField(_("identity checked"), null=True, blank=True)

    # The form as rendered when it was sent for signature (frozen), and the same
    # document with every signature so far (incremental updates). Each version is
    # its own file, named by its hash; a new signature never overwrites the last.
    pdf = models.FileField(
        _("form (PDF)"), upload_to=form_file_name, storage=forms_storage, max_length=200, blank=True, editable=False
    )
    pdf_sha256 = models.CharField(_("form SHA-256"), max_length=64, blank=True, editable=False)
    signed_pdf = models.FileField(
        _("signed form (PDF)"),
        upload_to=form_file_name,
        storage=forms_storage,
        max_length=200,
        blank=True,
        editable=False,
    )
    signed_pdf_sha256 = models.CharField(_("signed form SHA-256"), max_length=64, blank=True, editable=False)

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    fulfilled_at = models.DateTimeField(_("fulfilled"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "status", "-created_at"], name="request_org_status_created"),
            models.Index(fields=["status", "-created_at"], name="request_status_created"),
            models.Index(fields=["organization", "-created_at"], name="request_org_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RequestStatus.values), name="request_status_known"),
            models.CheckConstraint(condition=Q(kind__in=RequestKind.values), name="request_kind_known"),
            models.CheckConstraint(
                condition=Q(level="") | Q(level__in=AssuranceLevel.values), name="request_level_known"
            ),
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.REJECTED) | ~Q(rejection_reason=""),
                name="request_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(identity_document_last4="") | Q(identity_document_last4__regex=r"^[A-Za-z0-9]{4}$"),
                name="request_identity_last4_format",
            ),
            models.CheckConstraint(
                condition=Q(signed_pdf_sha256="") | Q(signed_pdf_sha256__regex=r"^[0-9a-f]{64}$"),
                name="request_signed_pdf_sha256_hex",
            ),
            models.CheckConstraint(
                condition=(Q(pdf="") & Q(pdf_sha256="")) | (~Q(pdf="") & Q(pdf_sha256__regex=r"^[0-9a-f]{64}$")),
                name="request_pdf_has_sha256",
            ),
            models.CheckConstraint(
                condition=(Q(signed_pdf="") & Q(signed_pdf_sha256="")) | ~Q(signed_pdf=""),
                name="request_signed_pdf_has_file",
            ),
            models.CheckConstraint(condition=Q(signatures_required__gte=1), name="request_needs_a_signature"),
            models.CheckConstraint(
                condition=~Q(kind=RequestKind.APPOINT_MANAGER) | Q(subject_user__isnull=False),
                name="request_appointment_names_manager",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number or '—'} {self.get_kind_display()} ({self.organization.name})"

    def save(self, *args, **kwargs):
        # The form number is derived from the primary key, so it needs the row first.
        creating = self.pk is None
        with transaction.atomic():
            super().save(*args, **kwargs)
            if creating and not self.number:
                self.number = f"RC-{self.created_at:%Y}-{self.pk:06d}"
                type(self).objects.filter(pk=self.pk).update(number=self.number)

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def clean(self):
        super().clean()
        if self.kind in self.Kind.values:
            try:
                self.payload_data  # noqa: B018 - parsing is the check
            except ValidationError as exc:
                raise ValidationError({"payload": exc.messages}) from None

    # The payload, typed ----------------------------------------------------------------------------------------

    @property
    def payload_data(self) -> payloads.Payload:
        """The payload as its kind's dataclass; ValidationError when the stored JSON does not fit."""
        return PAYLOAD_SCHEMAS[self.kind].parse(self.payload if self.payload is not None else {})

    def set_payload(self, data: payloads.Payload) -> None:
        """Replace the payload with ``data``, which must be the schema of this request's kind."""
        expected = PAYLOAD_SCHEMAS[self.kind]
        if type(data) is not expected:
            raise TypeError(f"A {self.kind} request takes a {expected.__name__}, not a {type(data).__name__}.")
        self.payload = data.to_json()

    def _payload_of(self, kind: str):
        if self.kind != kind:
            raise ValueError(f"Request {self.pk} is a {self.kind} request, not {kind}.")
        return self.payload_data

    def payload_for_new_means(self) -> payloads.NewMeansPayload:
        return self._payload_of(self.Kind.NEW_MEANS)

    def payload_for_upgrade(self) -> payloads.UpgradePayload:
        return self._payload_of(self.Kind.UPGRADE)

    def payload_for_new_authorizations(self) -> payloads.NewAuthorizationsPayload:
        return self._payload_of(self.Kind.NEW_AUTHORIZATIONS)

    def payload_for_link_user(self) -> payloads.LinkUserPayload:
        return self._payload_of(self.Kind.LINK_USER)

    def payload_for_appoint_manager(self) -> payloads.AppointManagerPayload:
        return self._payload_of(self.Kind.APPOINT_MANAGER)

    def payload_for_means_renewal(self) -> payloads.MeansRenewalPayload:
        return self._payload_of(self.Kind.MEANS_RENEWAL)

    # The form as PDF ---------------------------------------------------------------------------------------------

    def _store(self, field: str, content: bytes) -> str:
        """Write ``content`` as this row's ``field`` file, named by its SHA-256; returns the hash.

        Storage writes are not part of the transaction: a rolled-back change leaves an
        unused file behind, and writing the same content again reuses it.
        """
        digest = hashlib.sha256(content).hexdigest()
        file = getattr(self, field)
        name = file.field.generate_filename(self, f"{self.number or 'draft'}-{digest}.pdf")
        if file.storage.exists(name):
            file.name = name
        else:
            file.save(f"{self.number or 'draft'}-{digest}.pdf", ContentFile(content), save=False)
        return digest

    def store_pdf(self, content: bytes) -> None:
        """Freeze the form as sent for signature; no signed version yet."""
        self.pdf_sha256 = self._store("pdf", content)
        self.signed_pdf = ""
        self.signed_pdf_sha256 = ""

    def store_signed_pdf(self, content: bytes) -> None:
        self.signed_pdf_sha256 = self._store("signed_pdf", content)

    @staticmethod
    def _read(file, digest: str) -> bytes | None:
        if not file:
            return None
        with file.open("rb") as handle:
            content = handle.read()
        if hashlib.sha256(content).hexdigest() != digest:
            raise TamperedFile(f"{file.name} does not match its SHA-256 {digest}.")
        return content

    def pdf_content(self) -> bytes | None:
        """The form as frozen when sent for signature (checked against its hash)."""
        return self._read(self.pdf, self.pdf_sha256)

    def signed_pdf_content(self) -> bytes | None:
        """The form with every signature so far (checked against its hash)."""
        return self._read(self.signed_pdf, self.signed_pdf_sha256)

    @property
    def current_pdf(self) -> bytes | None:
        """The latest document: signed when anybody signed, else the frozen form."""
        if self.signed_pdf:
            return self.signed_pdf_content()
        return self.pdf_content()


PAYLOAD_SCHEMAS: dict[str, type[payloads.Payload]] = {
    Request.Kind.NEW_MEANS: payloads.NewMeansPayload,
    Request.Kind.UPGRADE: payloads.UpgradePayload,
    Request.Kind.NEW_AUTHORIZATIONS: payloads.NewAuthorizationsPayload,
    Request.Kind.LINK_USER: payloads.LinkUserPayload,
    Request.Kind.APPOINT_MANAGER: payloads.AppointManagerPayload,
    Request.Kind.MEANS_RENEWAL: payloads.MeansRenewalPayload,
}


class Signature(models.Model):
    class Capacity(models.TextChoices):
        REPRESENTATIVE = "representative", _("Authorized representative")
        MANAGER = "manager", _("Authorization manager")

    request = models.ForeignKey(Request, verbose_name=_("request"), on_delete=models.CASCADE, related_name="signatures")
    signer_name = models.CharField(_("signer"), max_length=200)
    capacity = models.CharField(_("capacity"), max_length=20, choices=Capacity)
    representative = models.ForeignKey(
        "organizations.Representative",
        verbose_name=_("representative"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signatures",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="signatures",
    )
    signed_at = models.DateTimeField(_("signed"), default=timezone.now)
    consent_text = models.TextField(_("consent"))
    ip_address = models.GenericIPAddressField(_("from where"), null=True, blank=True)
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF after this signature"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["request", "signed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "representative"],
                condition=Q(representative__isnull=False),
                name="signature_once_per_representative",
            ),
            models.UniqueConstraint(
                fields=["request", "user"],
                condition=Q(capacity="manager"),
                name="signature_once_per_manager",
            ),
            models.CheckConstraint(
                condition=(Q(capacity="representative") & Q(representative__isnull=False))
                | (Q(capacity="manager") & Q(user__isnull=False)),
                name="signature_capacity_matches_signer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signer_name} ({self.get_capacity_display()}) — {self.request.number}"


class SigningToken(models.Model):
    """One emailed signing link for one representative and one request.

    The URL carries a value signed with django.core.signing that names this row
    and its nonce; the row makes the link single-use and revocable, and holds
    the one-time code sent by email to confirm the signer.
    """

    request = models.ForeignKey(Request, verbose_name=_("request"), on_delete=models.CASCADE, related_name="tokens")
    representative = models.ForeignKey(
        "organizations.Representative",
        verbose_name=_("representative"),
        on_delete=models.CASCADE,
        related_name="signing_tokens",
    )
    nonce = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    identity_confirmed_at = models.DateTimeField(_("identity confirmed"), null=True, blank=True)
    code_hash = models.CharField(max_length=128, blank=True, editable=False)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    codes_sent = models.PositiveSmallIntegerField(default=0)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    identity_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("signing link")
        verbose_name_plural = _("signing links")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "representative"],
                condition=Q(used_at__isnull=True, revoked_at__isnull=True),
                name="signing_token_one_open_per_signer",
            ),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")), name="signing_token_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.representative.name} — {self.request.number}"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
