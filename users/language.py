"""The person's language preference applied to the interface.

Dutch is served without a prefix, English under ``/en/``. A page asked for without a prefix is
shown in the language the person chose (their ``language``, or for someone not logged in the
language cookie the switch sets): a person who chose English and types ``/`` lands on ``/en/``.
Explicit ``/en/...`` links keep working for everyone.
"""

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import is_valid_path
from django.utils import translation
from django.utils.translation import get_language_from_path


def preferred_language(request) -> str | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.language or None
    return request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)


def path_in(language: str, path: str) -> str:
    """``path`` (a default-language path, with or without a query) in ``language``."""
    if language == settings.LANGUAGE_CODE:
        return path
    return f"/{language}{path}"


class PreferredLanguageMiddleware:
    """Redirects a GET of an unprefixed page to the person's language when that is not the default."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        redirect = self._redirect(request)
        return redirect or self.get_response(request)

    def _redirect(self, request):
        if request.method not in ("GET", "HEAD") or request.headers.get("HX-Request"):
            return None
        if get_language_from_path(request.path_info):
            return None  # an explicit /en/... link
        language = preferred_language(request)
        codes = {code for code, _name in settings.LANGUAGES}
        if not language or language == settings.LANGUAGE_CODE or language not in codes:
            return None
        target = path_in(language, request.path_info)
        with translation.override(language):  # the URL resolver matches the active language's prefix only
            valid = is_valid_path(target, getattr(request, "urlconf", None))
        if not valid:
            return None  # outside the translated pages (/healthz, /i18n/setlang/)
        query = request.META.get("QUERY_STRING")
        return HttpResponseRedirect(f"{request.META.get('SCRIPT_NAME', '')}{target}{'?' + query if query else ''}")
