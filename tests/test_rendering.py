"""Shape rendering (reconi.rendering): byte-identical to Django's, each shape rendered once."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.template import engines
from django.utils import timezone

from authorizations.reminders.services import renewal_reminders_send
from notifications.models import OutboxEmail, RenewalReminder
from reconi.levels import AssuranceLevel
from reconi.rendering import ShapeRenderer
from tests.conftest import make_manager
from tests.factories import (
    AuthorizationFactory,
    MeansFactory,
    MembershipFactory,
    OrganizationFactory,
    ServiceFactory,
    UserFactory,
)
from tests.notifications.conftest import days

# Names that escaping changes, that look like markup, and that contain what a marker is made of.
NAMES = ['Jan "de Boer"', "<b>Piet</b> & Zn", "O'Brien", "Émile \ue000 0&\ue001", "Anne-Marie", "  Kees  van  Dam "]


def _rendered() -> dict[str, tuple[str, str, str, str]]:
    return {
        email.dedupe_key: (email.subject, email.body_text, email.body_html, email.status)
        for email in OutboxEmail.objects.all()
    }


@pytest.fixture
def busy_organisations(db):
    """Two organisations, managers reading Dutch and English, users with 1 to 4 expiring rows and means."""
    organizations = [
        OrganizationFactory(name="Voorbeeld & Zonen <BV>", email_domain="voorbeeld.nl"),
        OrganizationFactory(name='"Andere" BV', email_domain="andere.nl"),
    ]
    services = [ServiceFactory(name=f"Dienst {n} <{n}> & co", minimum_level=AssuranceLevel.EH2) for n in range(3)]
    for index, organization in enumerate(organizations):
        for language in ("nl", "en"):
            manager = UserFactory(first_name=f"Manager{index}", last_name=language, language=language)
            MeansFactory(owner=manager, level=AssuranceLevel.EH3)
            make_manager(manager, organization)
    for number, name in enumerate(NAMES * 3):
        first, _, last = name.partition(" ")
        user = UserFactory(first_name=first, last_name=last or "X", language="en" if number % 3 == 0 else "nl")
        means = MeansFactory(owner=user, level=AssuranceLevel.EH3)
        if number % 4 == 0:
            means.valid_until = days(5 + number)
            means.save()
        organization = organizations[number % 2]
        MembershipFactory(user=user, organization=organization)
        for row in range(1 + number % 4):
            AuthorizationFactory(
                user=user,
                organization=organization,
                service=services[row % 3],
                level=AssuranceLevel.EH2,
                valid_from=timezone.localdate() - relativedelta(years=1),
                valid_until=days(3 + 7 * row + number),
            )
    return organizations


def test_the_reminder_job_writes_byte_for_byte_what_django_renders(busy_organisations):
    renewal_reminders_send(fast=False)
    expected = _rendered()
    assert len(expected) > 20
    OutboxEmail.objects.all().delete()
    RenewalReminder.objects.all().delete()

    run = renewal_reminders_send(fast=True)

    assert run.queued == len(expected)
    assert _rendered() == expected


def test_emails_of_one_shape_are_rendered_once(busy_organisations):
    renderers = {}

    class Counting(ShapeRenderer):
        def __init__(self, render, template_names):
            super().__init__(render, template_names)
            renderers[template_names[0]] = self

    from notifications import services

    original = services.ShapeRenderers.__missing__

    def missing(self, key):
        from functools import partial

        kind, language = key
        renderer = self[key] = Counting(
            partial(services._render_templates, kind, language), services._template_names(kind)
        )
        return renderer

    services.ShapeRenderers.__missing__ = missing
    try:
        run = renewal_reminders_send()
    finally:
        services.ShapeRenderers.__missing__ = original
    shapes = sum(renderer.shapes for renderer in renderers.values())
    assert all(renderer.usable and renderer.fallbacks == 0 for renderer in renderers.values())
    assert run.queued >= 20 and shapes < run.queued / 2


def _renderer(source: str) -> ShapeRenderer:
    template = engines["django"].from_string(source)
    renderer = ShapeRenderer(lambda context: (template.render(context),), [])
    return renderer


def test_values_are_escaped_where_the_template_escapes_them_and_raw_where_it_does_not():
    renderer = _renderer("<p>{{ name }}</p>{% autoescape off %}[{{ name }}]{% endautoescape %}{{ safe }}")
    for name in NAMES:
        context = {"name": name, "safe": "&amp; ok"}
        first = renderer(context)
        assert renderer(context) == first == renderer.render(context)
    assert (renderer.shapes, renderer.fallbacks) == (1, 0)


def test_loops_branches_and_numbers_make_the_shape():
    renderer = _renderer(
        "{% for row in rows %}{{ row.name }}{% if row.boss %} ({{ row.boss }}){% endif %};{% endfor %}"
        "{% if more %}+{{ more }}{% endif %} {{ when }}"
    )
    contexts = [
        {"rows": [{"name": "a", "boss": ""}], "more": 0, "when": datetime.date(2027, 1, 1)},
        {"rows": [{"name": "b", "boss": "x"}], "more": 0, "when": datetime.date(2027, 1, 1)},
        {"rows": [{"name": "c", "boss": ""}, {"name": "d", "boss": "y"}], "more": 3, "when": datetime.date(2027, 1, 1)},
        {"rows": [{"name": "e", "boss": ""}], "more": 0, "when": datetime.date(2027, 2, 1)},
        {"rows": [{"name": "f", "boss": ""}], "more": 0, "when": datetime.date(2027, 1, 1)},
    ]
    for context in contexts:
        assert renderer(context) == renderer.render(context)
    assert (renderer.shapes, renderer.fallbacks) == (4, 0)  # the last context has the first one's shape


def test_a_filter_that_transforms_text_turns_shape_rendering_off(tmp_path, settings):
    (tmp_path / "upper.txt").write_text("{{ name|upper }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    from django.template.loader import render_to_string

    renderer = ShapeRenderer(lambda context: (render_to_string("upper.txt", context),), ["upper.txt"])
    assert not renderer.usable
    assert renderer({"name": "jan"}) == ("JAN",)


def test_a_comparison_the_shape_cannot_follow_is_rendered_normally():
    renderer = _renderer("{% if a < b %}less{% else %}more{% endif %} {{ a }}")
    assert renderer({"a": "x", "b": "y"}) == ("less x",)
    assert renderer({"a": "z", "b": "y"}) == ("more z",)
    assert renderer({"a": "a", "b": "y"}) == ("less a",)
    assert renderer.fallbacks == renderer.shapes == 1
