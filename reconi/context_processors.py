from django.conf import settings
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language_from_path

from portal.guards import managed_organization_ids


def navigation(request) -> dict:
    """The header's state: whether to show the Manage menu, and where the language switch returns to.

    ``is_manager`` is lazy: the query runs only when a template asks, so a page
    that never does (the self-contained 500 page) cannot fail on a broken database.
    """

    def is_manager() -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return False
        return bool(managed_organization_ids(request))

    return {
        "is_manager": SimpleLazyObject(is_manager),
        "language_switch_next": _path_in_default_language(request),
        "manage_tab": _manage_tab(request),
    }


# The Manage tab's sub-pages, each shown as a tab on every Manage page: (path prefix, tab).
MANAGE_TABS = [
    ("/manage/permissions/", "permissions"),
    ("/manage/users/", "users"),
    ("/manage/requests/", "requests"),
    ("/manage/branches/", "branches"),
    ("/manage/", "overview"),
]


def _manage_tab(request) -> str | None:
    """Which Manage tab the page belongs to, or None outside the Manage tab."""
    path = getattr(request, "path_info", "") or ""
    language = get_language_from_path(path)
    if language:
        path = "/" + path.removeprefix(f"/{language}/")
    for prefix, tab in MANAGE_TABS:
        if path.startswith(prefix):
            return tab
    return None


def _path_in_default_language(request) -> str:
    """The current URL without its ``/en`` prefix.

    ``set_language`` runs outside ``i18n_patterns`` with the default language
    active, so it can only translate ``next`` when ``next`` is a default-language
    (unprefixed) path; given ``/en/...`` it would send the user back to English.
    """
    path = request.get_full_path()
    language = get_language_from_path(request.path_info)
    if language and language != settings.LANGUAGE_CODE:
        prefix = f"/{language}/"
        if path.startswith(prefix):
            return "/" + path.removeprefix(prefix)
    return path
