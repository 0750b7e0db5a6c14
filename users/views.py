"""The person's own settings: language. (Home and the Manage tab are in ``portal``.)"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from .forms import LanguageForm
from .services import user_language_set


@login_not_required
@require_POST
def language_switch(request):
    """The header's language switch: Django's set_language (cookie, redirect to the page in that
    language), and for a logged-in person their language preference too."""
    response = set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in dict(request.user.Language.choices):
        user_language_set(actor=request.user, language=language)
    return response


def profile(request):
    """The person's own settings: the language of the interface, emails and PDFs."""
    form = LanguageForm(request.POST or None, initial={"language": request.user.language})
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        user_language_set(actor=request.user, language=language)
        with translation.override(language):
            messages.success(request, _("Your language has been saved."))
        with translation.override(language):
            response = redirect("profile")
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
        return response
    return render(request, "users/profile.html", {"form": form})
