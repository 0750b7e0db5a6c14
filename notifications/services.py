"""Sending email. Every email of the portal goes through ``email_queue``.

It renders the templates ``notifications/email/<kind>_subject.txt``,
``<kind>_body.txt`` and ``<kind>_body.html`` in the recipient's language and
hands the message over after the surrounding transaction commits, so a rolled
back change sends nothing.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/pdf"


def _recipient(to) -> tuple[str, str]:
    if isinstance(to, str):
        return to, settings.LANGUAGE_CODE
    return to.email, getattr(to, "language", None) or settings.LANGUAGE_CODE


def email_render(*, kind: str, language: str, context: dict) -> tuple[str, str, str]:
    context = {"base_url": settings.PORTAL_BASE_URL, **context}
    with translation.override(language):
        subject = render_to_string(f"notifications/email/{kind}_subject.txt", context).strip()
        text = render_to_string(f"notifications/email/{kind}_body.txt", context)
        html = render_to_string(f"notifications/email/{kind}_body.html", context)
    return " ".join(subject.split()), text, html


def email_queue(
    *,
    kind: str,
    to,
    context: dict,
    dedupe_key: str | None = None,
    attachments: tuple[Attachment, ...] = (),
    language: str | None = None,
) -> None:
    address, default_language = _recipient(to)
    language = language or default_language
    subject, text, html = email_render(kind=kind, language=language, context={"recipient": to, **context})

    def send() -> None:
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [address])
        message.attach_alternative(html, "text/html")
        for attachment in attachments:
            message.attach(attachment.filename, attachment.content, attachment.mimetype)
        message.send()

    transaction.on_commit(send)
