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
