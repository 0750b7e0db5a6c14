from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from authorizations.selectors import authorizations_of_user
from reconi.permissions import get_scoped_or_404
from requests_app.selectors import requests_about
from requests_app.services import means_renewal_request_create, open_renewal_for

from .forms import LanguageForm, MeansRenewalForm
from .models import Means
from .rules import means_renewable_refusal, renewal_end, renewal_periods, renewal_price
from .selectors import means_of_user
from .services import user_language_set


def home(request):
    """My Reconi home: the logged-in user's own means and authorizations, and what is under way about them."""
    return render(
        request,
        "users/home.html",
        {
            "means_list": means_of_user(user=request.user),
            "authorizations": authorizations_of_user(user=request.user),
            "requests_about_me": requests_about(user=request.user),
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["GET", "POST"])
def means_renew(request, pk):
    """The link in the renewal reminder: the holder asks to renew their own means (nobody else's: 404)."""
    means = get_scoped_or_404(request, Means.objects.filter(owner=request.user), pk=pk)
    today = timezone.localdate()
    periods = renewal_periods(valid_until=means.valid_until, today=today)
    refusal = means_renewable_refusal(means)
    pending = open_renewal_for(means)
    form = MeansRenewalForm(request.POST or None, holder=request.user, periods=periods)
    if request.method == "POST" and refusal is None and pending is None and form.is_valid():
        try:
            renewal = means_renewal_request_create(
                actor=request.user,
                means=means,
                organization=form.cleaned_data["organization"],
                years=form.cleaned_data["period"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            else:
                for message in exc.messages:
                    form.add_error(None, message)
        else:
            if renewal.payload.get("approvers"):
                text = _("Request %(number)s was sent to your authorization manager for approval.")
            else:
                text = _("Request %(number)s was sent to your organisation's representative to sign.")
            messages.success(request, text % {"number": renewal.number})
            return redirect("home")
    elif request.method == "POST" and (refusal is not None or pending is not None):
        form.is_valid()
        form.add_error(
            None,
            refusal.message
            if refusal is not None
            else _("You already asked to renew this means (request %(number)s); it is being handled.")
            % {"number": pending.number},
        )
    options = [
        {
            "years": years,
            "valid_until": renewal_end(valid_until=means.valid_until, years=years, today=today),
            "price": renewal_price(level=means.level, years=years),
        }
        for years in periods
    ]
    return render(
        request,
        "users/means_renew.html",
        {
            "means": means,
            "form": form,
            "options": options,
            "refusal": refusal,
            "pending": pending,
            "expired": means.valid_until < today,
            "today": today,
        },
    )


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
