"""Dutch is written in the formal "u" form everywhere: the portal's own catalogue and every text
that the libraries it shows (allauth, Django's admin and forms) translate for it. allauth's own
Dutch is informal ("Je bent nu ingelogd"); locale/overrides/nl replaces those strings."""

import gettext as gettext_module
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import translation

INFORMAL = re.compile(r"\b(je|jij|jou|jouw|jezelf|jullie)\b", re.IGNORECASE)
# Spelling slips allauth's catalogue makes and the portal must not show.
MISSPELLED = re.compile(r"(?i:QR code|verificatie code|wachtwoord wijziging|e-?mail adres)|EHerkenning")


def catalogue_msgids() -> dict[str, list]:
    """Every msgid of every Dutch catalogue Django loads (apps and LOCALE_PATHS), by file."""
    found: dict[str, list] = {}
    roots = [Path(config.path) / "locale" for config in apps.get_app_configs()]
    roots += [Path(path) for path in settings.LOCALE_PATHS]
    roots.append(Path(translation.trans_real.__file__).parents[2] / "conf" / "locale")
    for root in roots:
        mo = root / "nl" / "LC_MESSAGES" / "django.mo"
        if mo.exists():
            with mo.open("rb") as handle:
                found[str(mo)] = [key for key in gettext_module.GNUTranslations(handle)._catalog if key]
    return found


def shown_in_dutch(key) -> list[str]:
    with translation.override("nl"):
        if isinstance(key, tuple):  # (msgid, plural index): check the singular and the plural
            msgid = key[0]
            return [translation.ngettext(msgid, msgid, 1), translation.ngettext(msgid, msgid, 2)]
        if "\x04" in key:
            context, msgid = key.split("\x04", 1)
            return [translation.pgettext(context, msgid)]
        return [translation.gettext(key)]


def test_the_catalogues_include_allauth_and_the_portal():
    files = catalogue_msgids()
    assert any("allauth" in name for name in files)
    assert any(name.endswith("locale/nl/LC_MESSAGES/django.mo") and "overrides" not in name for name in files)


@pytest.mark.parametrize("pattern", [INFORMAL, MISSPELLED], ids=["informal", "misspelled"])
def test_no_dutch_string_the_portal_can_show_is_informal_or_misspelled(pattern):
    offending = []
    for name, keys in catalogue_msgids().items():
        for key in keys:
            for text in shown_in_dutch(key):
                if pattern.search(text):
                    offending.append(f"{Path(name).parts[-5:]}: {key!r} -> {text!r}")
    assert not offending, "\n".join(sorted(set(offending))[:40]) + f"\n({len(set(offending))} strings)"


def test_allauth_login_message_is_formal():
    with translation.override("nl"):
        assert translation.gettext("Successfully signed in as %(name)s.") == "U bent ingelogd als %(name)s."
