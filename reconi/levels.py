"""eHerkenning assurance levels, ordered EH2 < EH2+ < EH3 < EH4."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AssuranceLevel(models.TextChoices):
    EH2 = "EH2", "EH2"
    EH2_PLUS = "EH2+", "EH2+"
    EH3 = "EH3", "EH3"
    EH4 = "EH4", "EH4"

    @classmethod
    def ordered(cls) -> list["AssuranceLevel"]:
        return [cls.EH2, cls.EH2_PLUS, cls.EH3, cls.EH4]

    @classmethod
    def rank(cls, level: str) -> int:
        return [member.value for member in cls.ordered()].index(str(level))

    @classmethod
    def at_most(cls, level: str) -> list[str]:
        """Values at or below ``level``: use as ``level__in=`` in queries."""
        return [m.value for m in cls.ordered() if cls.rank(m) <= cls.rank(level)]

    @classmethod
    def at_least(cls, level: str) -> list[str]:
        return [m.value for m in cls.ordered() if cls.rank(m) >= cls.rank(level)]

    @classmethod
    def highest(cls, levels) -> str | None:
        levels = [str(level) for level in levels if level]
        return max(levels, key=cls.rank) if levels else None

    @classmethod
    def is_at_most(cls, level: str, ceiling: str) -> bool:
        return cls.rank(level) <= cls.rank(ceiling)

    @classmethod
    def needs_second_factor(cls, level: str) -> bool:
        return cls.rank(level) >= cls.rank(cls.EH2_PLUS)

    @classmethod
    def saml_class_ref(cls, level: str) -> str:
        suffix = {"EH2": "loa2", "EH2+": "loa2plus", "EH3": "loa3", "EH4": "loa4"}[str(level)]
        return f"urn:etoegang:core:assurance-class:{suffix}"


LEVEL_HELP = _("Assurance level: EH2 < EH2+ < EH3 < EH4.")
