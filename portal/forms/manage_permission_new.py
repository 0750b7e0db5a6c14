"""Forms of "Request new permissions". They validate and nothing more.

Each step's form receives what the earlier steps settled (the manager, the
organisation, the user, the level), so every choice queryset is scoped: an id
from outside the manager's reach is simply not a valid choice. The service
checks rules 1, 2 and 3 again when the list is confirmed.
"""

from django import forms
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from authorizations.models import Authorization, Service, ServiceProvider
from authorizations.selectors import identical_authorization_in_force, wizard_linked_users, wizard_unlinked_users
from organizations.models import Organization
from organizations.roles import manager_level_for
from organizations.rules import branch_restriction_refusal
from reconi.levels import AssuranceLevel
from users.services import VALID_PERIODS


class OrganizationStepForm(forms.Form):
    organization = forms.ModelChoiceField(
        queryset=None,
        label=_("Organisation"),
        empty_label=_("Choose an organisation"),
        error_messages={"invalid_choice": _("Choose one of the organisations you manage.")},
    )

    def __init__(self, *args, manager, **kwargs):
        super().__init__(*args, **kwargs)
        self.manager = manager
        self.fields["organization"].queryset = Organization.objects.managed_by(manager)


class UserStepForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=None,
        label=_("User"),
        error_messages={"invalid_choice": _("Choose a user linked to this organisation.")},
    )

    def __init__(self, *args, manager, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.manager = manager
        self.organization = organization
        self.fields["user"].queryset = wizard_linked_users(organization=organization)

    def clean_user(self):
        user = self.cleaned_data["user"]
        if user.means_level is None:
            raise forms.ValidationError(
                gettext("%(user)s has no active means, so no authorization can be granted.") % {"user": user},
                code="no_means",
            )
        return user


class UnlinkedUserForm(forms.Form):
    """Choosing someone of my other organisations starts a link request, never a grant."""

    unlinked_user = forms.ModelChoiceField(
        queryset=None,
        label=_("User not linked"),
        error_messages={"invalid_choice": _("Choose a user of another organisation you manage.")},
    )

    def __init__(self, *args, manager, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unlinked_user"].queryset = wizard_unlinked_users(manager=manager, organization=organization)


def level_refusal(level: str, *, user, means_level: str | None, manager_level: str | None) -> str | None:
    """Why ``level`` cannot be chosen for ``user`` (rules 1 and 3), or None."""
    if means_level is None:
        return gettext("%(user)s has no active means.") % {"user": user}
    if not AssuranceLevel.is_at_most(level, means_level):
        return gettext("Above the level of %(user)s's means (%(means)s).") % {"user": user, "means": means_level}
    if manager_level is None:
        return gettext("You do not manage this organisation.")
    if not AssuranceLevel.is_at_most(level, manager_level):
        return gettext("Above your own manager level (%(level)s).") % {"level": manager_level}
    return None


class LevelStepForm(forms.Form):
    level = forms.ChoiceField(
        choices=AssuranceLevel.choices,
        label=_("Assurance level"),
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of the assurance levels.")},
    )

    def __init__(self, *args, manager, organization: Organization, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.means_level = user.means_level
        self.manager_level = manager_level_for(manager, organization)

    def options(self) -> list[dict]:
        """Every level, the ones above the means or the manager level disabled with the reason."""
        return [
            {
                "value": value,
                "label": label,
                "refusal": level_refusal(
                    value, user=self.user, means_level=self.means_level, manager_level=self.manager_level
                ),
            }
            for value, label in AssuranceLevel.choices
        ]

    def clean_level(self):
        level = self.cleaned_data["level"]
        refusal = level_refusal(level, user=self.user, means_level=self.means_level, manager_level=self.manager_level)
        if refusal:
            raise forms.ValidationError(refusal, code="level_refused")
        return level


def service_refusal(service: Service, level: str) -> str | None:
    """Why ``service`` cannot be added at ``level`` (rule 2), or None."""
    if AssuranceLevel.is_at_most(service.minimum_level, level):
        return None
    return gettext("Needs at least %(minimum)s; you chose %(level)s.") % {
        "minimum": service.minimum_level,
        "level": level,
    }


class AddLineForm(forms.Form):
    """The green "Add authorization" button: one scope for the settled user and level."""

    scope = forms.ChoiceField(choices=Authorization.Scope.choices, widget=forms.HiddenInput)
    service = forms.ModelChoiceField(
        queryset=Service.objects.select_related("provider"),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("This service is not in the catalogue.")},
    )
    provider = forms.ModelChoiceField(
        queryset=ServiceProvider.objects.all(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("This service provider is not in the catalogue.")},
    )

    def __init__(
        self, *args, organization: Organization, user, level: str, lines: list[dict], branch: str = "", **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.user = user
        self.level = level
        self.lines = lines
        self.branch = branch

    def clean(self):
        cleaned = super().clean()
        scope = cleaned.get("scope")
        service = cleaned.get("service")
        provider = cleaned.get("provider")
        if scope is None or self.errors:
            return cleaned
        if scope == Authorization.Scope.SERVICE:
            if service is None:
                raise forms.ValidationError(gettext("Choose a service."), code="no_service")
            refusal = service_refusal(service, self.level)
            if refusal:
                raise forms.ValidationError(
                    gettext("%(service)s cannot be added: %(reason)s") % {"service": service.name, "reason": refusal},
                    code="below_service_minimum",
                )
            provider = None
        elif scope == Authorization.Scope.PROVIDER:
            if provider is None:
                raise forms.ValidationError(gettext("Choose a service provider."), code="no_provider")
            service = None
        else:
            service = provider = None
        cleaned["service"], cleaned["provider"] = service, provider
        refusal = branch_restriction_refusal(
            branch_number=self.branch,
            known_branches=self.organization.branches.values_list("number", flat=True) if self.branch else (),
            organization_name=self.organization.name,
            scope=scope,
            service=service,
        )
        if refusal is not None:
            raise forms.ValidationError(refusal.message, code=refusal.code)
        line = self.line()
        if any(_same_target(line, other) for other in self.lines):
            raise forms.ValidationError(gettext("This authorization is already in your list."), code="duplicate")
        in_force = identical_authorization_in_force(
            user=self.user,
            organization=self.organization,
            level=self.level,
            scope=scope,
            service=service,
            provider=provider,
            branch_number=self.branch,
        )
        if in_force.exists():
            raise forms.ValidationError(
                gettext("%(user)s already has this authorization in force; renew it from the list instead.")
                % {"user": self.user},
                code="exists",
            )
        return cleaned

    def line(self) -> dict:
        """The line as the session keeps it: ids only, checked again at confirm."""
        service = self.cleaned_data.get("service")
        provider = self.cleaned_data.get("provider")
        return {
            "organization": self.organization.pk,
            "user": self.user.pk,
            "level": self.level,
            "scope": self.cleaned_data["scope"],
            "service": service.pk if service else None,
            "provider": provider.pk if provider else None,
            "branch": self.branch,
        }


def _same_target(line: dict, other: dict) -> bool:
    keys = ("organization", "user", "level", "scope", "service", "provider")
    return all(line[key] == other.get(key) for key in keys) and line.get("branch", "") == other.get("branch", "")


class ConfirmForm(forms.Form):
    period = forms.TypedChoiceField(
        label=_("Validity period"),
        choices=(),
        coerce=int,
        widget=forms.RadioSelect,
        initial=3,
        error_messages={"invalid_choice": _("Choose a period of 1, 3 or 5 years.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(years, period_label(years)) for years in sorted(VALID_PERIODS)]


def period_label(years: int) -> str:
    return ngettext("%(years)d year", "%(years)d years", years) % {"years": years}
