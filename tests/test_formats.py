import datetime

from django.utils import formats, translation


def test_english_dates_are_day_month_year():
    day = datetime.date(2027, 4, 1)
    with translation.override("en"):
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "01-04-2027"
        assert formats.date_format(day) == "1 April 2027"


def test_dutch_dates_are_day_month_year():
    day = datetime.date(2027, 4, 1)
    with translation.override("nl"):
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "1-4-2027"
        assert formats.date_format(day) == "1 april 2027"
