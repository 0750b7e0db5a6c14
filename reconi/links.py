"""Absolute portal links for emails: the public base URL, the path in the recipient's language."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation


def portal_url(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def portal_url_in(language: str, name: str, **kwargs) -> str:
    """The page ``name`` as the person reading in ``language`` opens it."""
    with translation.override(language):
        return portal_url(reverse(name, kwargs=kwargs or None))


def portal_url_for(person, name: str, **kwargs) -> str:
    """The page ``name`` in ``person``'s language (the site's default for nobody)."""
    return portal_url_in(getattr(person, "language", None) or settings.LANGUAGE_CODE, name, **kwargs)
