from .models import GENESIS_HASH, AuditEvent


def audit_chain_broken_at() -> int | None:
    """The id of the first event whose hash or link does not match, or None."""
    prev = GENESIS_HASH
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != prev or event.compute_hash() != event.hash:
            return event.pk
        prev = event.hash
    return None
