"""One date format per language, everywhere (pages, CSV, emails, PDFs): day-month-year with
two-digit day and month, as Dutch spreadsheets write it; never the US order."""

import datetime

import pytest
from django.utils import formats, translation

DAY = datetime.date(2027, 4, 1)
WHEN = datetime.datetime(2027, 4, 1, 9, 5)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_date_format_of_a_language_writes_the_same_date(language):
    with translation.override(language):
        assert formats.date_format(DAY, "SHORT_DATE_FORMAT") == "01-04-2027"
        assert formats.date_format(DAY) == "01-04-2027"
        assert formats.date_format(WHEN, "DATETIME_FORMAT") == "01-04-2027 09:05"
        assert formats.date_format(WHEN, "SHORT_DATETIME_FORMAT") == "01-04-2027 09:05"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_date_fields_read_the_written_format_and_iso(language):
    from django import forms

    with translation.override(language):
        field = forms.DateField()
        assert field.clean("01-04-2027") == DAY
        assert field.clean("2027-04-01") == DAY


def test_templates_use_the_named_formats_not_literal_patterns():
    """A literal pattern ("j F Y") in a template would bring back a second date format."""
    from pathlib import Path

    from django.conf import settings

    offending = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*"):
        if path.suffix in (".html", ".txt"):
            text = path.read_text(encoding="utf-8")
            for pattern in ('date:"j F Y', 'date:"d-m-Y', 'date:"j-n-Y', "date:'d-m-Y"):
                if pattern in text:
                    offending.append(f"{path.name}: {pattern}")
    assert not offending, offending
