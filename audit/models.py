import hashlib
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# The previous hash of the first event in the chain.
GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One change, append-only. Each row holds the hash of the previous row."""

    created_at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_email = models.CharField(_("actor email"), max_length=254, blank=True)
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("on behalf of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("what"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("from where"), null=True, blank=True)
    # Unique: every event has at most one successor, so the chain cannot fork even
    # if two writers ever read the same last hash.
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_email} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("Audit events are append-only."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Audit events are append-only."))

    def hash_input(self) -> str:
        """The canonical text the hash is taken of (exported, so anyone can recompute it)."""
        return json.dumps(
            {
                "prev": self.prev_hash,
                "created_at": self.created_at.isoformat(),
                "actor": self.actor_id,
                "actor_email": self.actor_email,
                "organization": self.organization_id,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "data": self.data,
                "ip": self.ip_address,
            },
            sort_keys=True,
            default=str,
        )

    def compute_hash(self) -> str:
        return hashlib.sha256(self.hash_input().encode()).hexdigest()
