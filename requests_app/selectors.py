"""Reads for the signing pages and verification."""

from .models import Signature


def signature_by_document(*, sha256: str) -> Signature | None:
    """The signature after which the portal's copy of a form had exactly this SHA-256, if any."""
    return (
        Signature.objects.filter(pdf_sha256=sha256)
        .select_related("request__organization")
        .order_by("-signed_at")
        .first()
    )


def requests_about(*, user) -> list:
    """Open requests about ``user`` (their renewal, their upgrade, their application to become manager),
    for their home page until the request ends."""
    from .models import Request

    return list(
        Request.objects.filter(subject_user=user, status__in=Request.OPEN_STATUSES)
        .exclude(kind=Request.Kind.LINK_USER)  # link requests have their own accept/decline block
        .select_related("organization")
        .defer("pdf", "signed_pdf")
        .order_by("-created_at")
    )
