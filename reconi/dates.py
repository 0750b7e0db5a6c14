"""Dates as people type them: 17-05-1990 (what Dutch spreadsheets write), 7-5-1990, 1990-05-17."""

import datetime
import re

_DAY_FIRST = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def parse_date(text: str) -> datetime.date | None:
    """The date in ``text`` (dd-mm-yyyy, d-m-yyyy, also with / or ., or ISO yyyy-mm-dd), or None."""
    text = (text or "").strip()
    if match := _DAY_FIRST.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None
