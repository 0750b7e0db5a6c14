from celery import shared_task

from .chain import audit_anchor_create


@shared_task(name="audit.anchor_chain_head")
def audit_anchor_task() -> str:
    """Daily (beat): the chain head, signed, out of the database. Safe to run twice: it only adds a file."""
    path, _document = audit_anchor_create()
    return str(path)
