"""Where a flow returns to when it was started elsewhere.

"Request new means" on the Permissions page opens the add-user flow with
``?next=<the Permissions page>``; the flow carries it along and returns there
once the form is signed or sent. Only that page is accepted as a destination,
so ``next`` can never send anyone off-site or somewhere unexpected.
"""

from django.urls import reverse
from django.utils.http import urlencode


def back_to_permissions(request) -> str:
    """The Permissions page when the flow was started there, else ''."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    return candidate if candidate == reverse("permission_list") else ""


def with_next(url: str, back: str) -> str:
    return f"{url}?{urlencode({'next': back})}" if back else url
