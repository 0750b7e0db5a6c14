"""Email backends: the demo's ``.eml`` files under var/mail/, and SMTP that keeps the server's reply."""

import smtplib
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend
from django.utils import timezone


class EmlFileBackend(BaseEmailBackend):
    """Writes each message as ``<timestamp>-<id>.eml``, openable in any mail client."""

    def __init__(self, file_path=None, fail_silently=False, **kwargs):
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.file_path = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages) -> int:
        self.file_path.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.eml"
            (self.file_path / name).write_bytes(message.message().as_bytes(linesep="\r\n"))
            sent += 1
        return sent


class _RecordingSMTP(smtplib.SMTP):
    """Keeps the server's reply to DATA ("250 2.0.0 Ok: queued as ..."), which smtplib drops."""

    last_data_reply: tuple[int, str] | None = None

    def data(self, msg):
        code, reply = super().data(msg)
        self.last_data_reply = (code, reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply))
        return code, reply


class _RecordingSMTP_SSL(smtplib.SMTP_SSL):  # noqa: N801 - mirrors smtplib's name
    last_data_reply: tuple[int, str] | None = None

    data = _RecordingSMTP.data


class SMTPBackend(DjangoSMTPBackend):
    """Django's SMTP backend, remembering each message's DATA reply for the outbox's attempt log."""

    @property
    def connection_class(self):
        return _RecordingSMTP_SSL if self.use_ssl else _RecordingSMTP
