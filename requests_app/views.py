"""Public pages of the signing flow and "Become an authorization manager"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from notifications.services import email_queue
from reconi.pdf import VerifyResult, sha256, verify_pdf
from users.models import Means

from . import services, tokens
from .forms import MAX_VERIFY_BYTES, BecomeManagerForm, IdentityForm, SignForm, VerifyForm
from .models import Request
from .selectors import signature_by_document
from .signing import form_context

TOKEN_ERROR_STATUS = {"invalid": 404, "expired": 410, "used": 410, "revoked": 410, "locked": 429, "closed": 410}


def _upgrade_url() -> str:
    # An upgrade is requested by the organisation's manager or support; the home page lists the means and its level.
    return reverse("home") + "#means-heading"


@require_http_methods(["GET", "POST"])
def become_manager(request):
    """A logged-in person with a means applies to become manager of an organisation (for themselves only)."""
    means = Means.objects.active().filter(owner=request.user).first()
    form = BecomeManagerForm(request.POST or None, initial={"level": getattr(means, "level", None)})
    level_mismatch = False
    if request.method == "POST" and form.is_valid():
        try:
            application = services.appointment_apply(
                actor=request.user,
                organization=form.cleaned_data["organization"],
                level=form.cleaned_data["level"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            level_mismatch = "level_mismatch" in _codes(exc)
            form.add_error(None, exc)
        except PermissionDenied:
            form.add_error(None, _("You cannot apply for this organisation."))
        else:
            messages.success(
                request,
                _(
                    "Your application %(number)s is sent to the representatives of %(organization)s. "
                    "You get an email as soon as they have signed."
                )
                % {"number": application.number, "organization": application.organization.name},
            )
            return redirect("home")
    return render(
        request,
        "requests_app/appointment_apply.html",
        {"form": form, "means": means, "level_mismatch": level_mismatch, "upgrade_url": _upgrade_url()},
    )


def _codes(exc: ValidationError) -> set[str]:
    if hasattr(exc, "error_dict"):
        return {error.code for errors in exc.error_dict.values() for error in errors}
    return {error.code for error in exc.error_list}


def _token_error(request, reason: str, token=None):
    return render(
        request,
        "requests_app/request_sign_invalid.html",
        {"reason": reason, "token": token},
        status=TOKEN_ERROR_STATUS.get(reason, 400),
    )


def _resolve(request, value: str):
    """The usable token and its request, or the error page (nothing is changed)."""
    try:
        token = tokens.token_resolve(value)
    except tokens.TokenError as exc:
        return None, _token_error(request, exc.reason, exc.token)
    if token.request.status != Request.Status.AWAITING_SIGNATURE:
        return None, _token_error(request, "closed", token)
    return token, None


def _mask(email: str) -> str:
    local, _at, domain = email.partition("@")
    return f"{local[:1]}{'•' * max(len(local) - 1, 1)}@{domain}"


def _send_code(request, token) -> None:
    issued = tokens.code_issue(token=token)
    if issued.code is None:
        if issued.reason == "wait":
            messages.warning(request, _("We just sent you a code. Wait a minute before asking for a new one."))
        else:
            messages.error(request, _("Too many codes were sent for this link. Ask for a new signing link."))
        return
    email_queue(
        kind="signing_code",
        to=token.representative.email,
        language=token.request.language,
        context={
            "request": token.request,
            "representative": token.representative,
            "code": issued.code,
            "minutes": int(tokens.CODE_LIFETIME.total_seconds() // 60),
        },
    )
    messages.info(request, _("We emailed a code to %(email)s.") % {"email": _mask(token.representative.email)})


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def sign(request, token):
    """The representative reviews the form, confirms who they are, enters the emailed code and signs."""
    signing_token, error = _resolve(request, token)
    if error:
        return error
    identity_form = IdentityForm(prefix="id")
    sign_form = SignForm(prefix="sign")
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "identify" and signing_token.identity_confirmed_at is None:
            identity_form = IdentityForm(request.POST, prefix="id")
            if identity_form.is_valid():
                if tokens.identity_check(token=signing_token, **identity_form.cleaned_data):
                    _send_code(request, signing_token)
                    return redirect(request.path)
                left = tokens.IDENTITY_MAX_ATTEMPTS - signing_token.identity_attempts
                if left <= 0:
                    return _token_error(request, "locked", signing_token)
                identity_form.add_error(
                    None,
                    _(
                        "The name and date of birth do not match the KvK extract of %(organization)s. "
                        "%(left)s attempts left."
                    )
                    % {"organization": signing_token.request.organization.name, "left": left},
                )
        elif action == "resend" and signing_token.identity_confirmed_at is not None:
            _send_code(request, signing_token)
            return redirect(request.path)
        elif action == "sign" and signing_token.identity_confirmed_at is not None:
            sign_form = SignForm(request.POST, prefix="sign")
            if sign_form.is_valid():
                outcome = tokens.code_check(token=signing_token, code=sign_form.cleaned_data["code"])
                if outcome == "ok":
                    try:
                        signature = services.request_sign_as_representative(
                            token=signing_token,
                            code=sign_form.cleaned_data["code"],
                            consent=sign_form.cleaned_data["consent"],
                            ip_address=request.META.get("REMOTE_ADDR"),
                        )
                    except tokens.TokenError as exc:
                        return _token_error(request, exc.reason, exc.token)
                    except ValidationError as exc:
                        sign_form.add_error(None, exc)
                    else:
                        signature.request.refresh_from_db()
                        return render(
                            request,
                            "requests_app/request_sign_done.html",
                            {"signature": signature, "req": signature.request},
                        )
                else:
                    sign_form.add_error("code", _code_message(outcome))
    signing_token.refresh_from_db()
    req = signing_token.request
    return render(
        request,
        "requests_app/request_sign.html",
        {
            **form_context(req),
            "token": signing_token,
            "token_value": token,
            "identity_form": identity_form,
            "sign_form": sign_form,
            "step": "sign" if signing_token.identity_confirmed_at else "identify",
            "signed": req.signatures.all(),
            "masked_email": _mask(signing_token.representative.email),
        },
    )


def _code_message(outcome: str) -> str:
    return {
        "wrong": _("That code is not right. Check the latest email and try again."),
        "expired": _("The code has expired. Ask for a new one."),
        "attempts": _("Too many wrong codes. Ask for a new code."),
        "none": _("Ask for a code first."),
    }.get(outcome, _("That code is not right."))


@login_not_required
@never_cache
@require_http_methods(["GET"])
def sign_pdf(request, token):
    """The form as PDF (with the signatures so far), for the holder of a valid signing link."""
    signing_token, error = _resolve(request, token)
    if error:
        return error
    content = signing_token.request.current_pdf
    if content is None:
        return _token_error(request, "closed", signing_token)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{signing_token.request.number}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_not_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """Anyone uploads a PDF and learns whether this portal signed it and it is unchanged since."""
    result = form_request = None
    if request.method == "POST":
        too_large = int(request.META.get("CONTENT_LENGTH") or 0) > MAX_VERIFY_BYTES + 64 * 1024
        if too_large:
            # Refused before the upload is read: an unbound form and the reason (413 Content Too Large).
            return render(
                request, "requests_app/signature_verify.html", {"form": VerifyForm(), "too_large": True}, status=413
            )
        form = VerifyForm(request.POST, request.FILES)
        if form.is_valid():
            content = form.cleaned_data["file"].read()
            result = verify_pdf(content)
            if result.valid:
                # pyHanko accepts some changes to the bytes of a signature value itself; the portal's own
                # record of every document it issued makes any other byte change fail too.
                issued = signature_by_document(sha256=sha256(content))
                if issued is None:
                    result = VerifyResult(False, "modified", "The file differs from every document the portal issued.")
                else:
                    form_request = issued.request
    else:
        form = VerifyForm()
    return render(
        request,
        "requests_app/signature_verify.html",
        {"form": form, "result": result, "form_request": form_request},
    )
