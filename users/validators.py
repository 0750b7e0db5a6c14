"""A means is personal, so its email address must be the person's own.

Accepted are the person's own address (the part before the @ matches their
name in one of the usual patterns: ``jan.de.vries``, ``j.devries``,
``jdevries``, ``jan``, ``devries``, ``jan_devries``, ``jp.devries`` with the
initials, ...) and a general address at the organisation's own domain
(``info@``, ``administratie@``, ...). Anything else gets an error that says why.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# General (role) mailboxes of an organisation, in Dutch and English.
GENERAL_LOCAL_PARTS = frozenset(
    {
        "admin",
        "administratie",
        "administration",
        "boekhouding",
        "contact",
        "finance",
        "financien",
        "hr",
        "info",
        "inkoop",
        "kantoor",
        "mail",
        "office",
        "personeelszaken",
        "post",
        "receptie",
        "salarisadministratie",
        "secretariaat",
        "service",
        "support",
    }
)

# Dutch surname prefixes (tussenvoegsels): "de Jong" may be written "dejong" or "jong".
SURNAME_PREFIXES = frozenset({"van", "de", "der", "den", "het", "ter", "ten", "te", "la", "le", "da", "di", "in", "'t"})


def _fold(value: str) -> str:
    """Lower case without accents: "Ørjan Brüggemann" -> "orjan bruggemann"."""
    value = unicodedata.normalize("NFKD", value or "")
    value = "".join(c for c in value if not unicodedata.combining(c))
    return value.replace("ø", "o").replace("ß", "ss").lower().strip()


def _letters(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _fold(value))


def _surname_forms(last_name: str) -> set[str]:
    words = [w for w in re.split(r"[\s\-]+", _fold(last_name)) if w]
    if not words:
        return set()
    forms = {"".join(_letters(w) for w in words)}
    core = [w for w in words if w not in SURNAME_PREFIXES] or words
    forms.add("".join(_letters(w) for w in core))
    return {f for f in forms if f}


def _initials(first_name: str, initials: str) -> set[str]:
    letters = _letters(initials)
    result = set()
    if letters:
        result.add(letters)
        result.add(letters[0])
    first = _letters(first_name)
    if first:
        result.add(first[0])
    return result


def name_matches_local_part(*, local_part: str, first_name: str, initials: str, last_name: str) -> bool:
    """Does the address's local part look like this person's name?"""
    # Separators are free ("jan.de.vries" == "jan_devries" == "jan-de-vries").
    local = _letters(local_part)
    if not local:
        return False
    first = _letters(first_name)
    surnames = _surname_forms(last_name)
    starts = _initials(first_name, initials)
    candidates: set[str] = set()
    if first:
        candidates.add(first)
    for surname in surnames:
        candidates.add(surname)
        if first:
            candidates.update({first + surname, surname + first, first + surname[0] if surname else first})
        for start in starts:
            candidates.update({start + surname, surname + start})
    # A trailing number tells namesakes apart ("jan.devries2").
    local_without_digits = re.sub(r"[0-9]+$", "", local)
    return local in candidates or local_without_digits in candidates


def is_general_address(*, email: str, organization) -> bool:
    local, _sep, domain = email.lower().partition("@")
    own_domain = (getattr(organization, "email_domain", "") or "").lower().strip()
    if not own_domain:
        return False
    return local in GENERAL_LOCAL_PARTS and (domain == own_domain or domain.endswith("." + own_domain))


def validate_personal_email(*, email: str, first_name: str, initials: str = "", last_name: str, organization) -> None:
    """Raise ValidationError (with the reason) unless rule 12 allows ``email`` for this person."""
    email = (email or "").strip().lower()
    local, sep, domain = email.partition("@")
    if not sep or not local or not domain:
        raise ValidationError(_("Enter a valid email address."), code="invalid")
    if is_general_address(email=email, organization=organization):
        return
    if local in GENERAL_LOCAL_PARTS:
        own_domain = getattr(organization, "email_domain", "") or ""
        if own_domain:
            message = _(
                "%(email)s is a general address, but not at %(organization)s's own domain (%(domain)s). "
                "Use the person's own address or a general address @%(domain)s."
            ) % {"email": email, "organization": organization.name, "domain": own_domain}
        else:
            message = _(
                "%(email)s is a general address, and %(organization)s has no email domain on record to check it "
                "against. Use the person's own address."
            ) % {"email": email, "organization": organization.name}
        raise ValidationError(message, code="general_address_elsewhere")
    if not name_matches_local_part(local_part=local, first_name=first_name, initials=initials, last_name=last_name):
        name = " ".join(part for part in [first_name, last_name] if part)
        raise ValidationError(
            _(
                "An eHerkenning means is personal: %(email)s does not look like the own address of %(name)s. "
                "Use their own (company) address, for example firstname.lastname@..., or a general address of "
                "the organisation such as info@%(domain)s."
            )
            % {"email": email, "name": name, "domain": getattr(organization, "email_domain", "") or "..."},
            code="not_personal",
        )
