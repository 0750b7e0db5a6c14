"""Reading the "Add users" CSV: one person per row, checked before anything is saved.

The file is read whole (it is small: at most ``MAX_BYTES``), decoded as UTF-8
(with or without BOM), its delimiter sniffed (comma or semicolon, as Excel
writes it in Dutch), and its header compared with ``COLUMNS``. File-level
problems come back as one message; row problems are checked by
``services.people_check`` and shown per row and column in the preview.
"""

import csv
import io
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_BYTES = 1024 * 1024
MAX_ROWS = 500
COLUMNS = ("first_name", "initials", "last_name", "date_of_birth", "email", "phone", "level", "years")
REQUIRED_COLUMNS = ("first_name", "last_name", "date_of_birth", "email", "level", "years")
# Dutch headers, as a Dutch manager may type them.
ALIASES = {
    "voornaam": "first_name",
    "voorletters": "initials",
    "achternaam": "last_name",
    "geboortedatum": "date_of_birth",
    "e-mail": "email",
    "e-mailadres": "email",
    "emailadres": "email",
    "telefoon": "phone",
    "telefoonnummer": "phone",
    "niveau": "level",
    "betrouwbaarheidsniveau": "level",
    "jaren": "years",
    "looptijd": "years",
}
COLUMN_LABELS = {
    "first_name": gettext_lazy("First name"),
    "initials": gettext_lazy("Initials"),
    "last_name": gettext_lazy("Last name"),
    "date_of_birth": gettext_lazy("Date of birth"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "level": gettext_lazy("Level"),
    "years": gettext_lazy("Years"),
}
EXAMPLE_ROW = ("Jan", "J.P.", "de Vries", "12-04-1980", "jan.devries@voorbeeld-bv1.nl", "+31612345678", "EH3", "3")


def csv_template() -> str:
    """A file to start from, in the active language: its column headers and one example row.

    Dutch uses semicolons, as Excel writes CSV in a Dutch locale; English commas. Dates as
    DD-MM-YYYY (ISO dates are read too).
    """
    delimiter = ";" if translation.get_language() == "nl" else ","
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([str(COLUMN_LABELS[column]) for column in COLUMNS])
    writer.writerow(EXAMPLE_ROW)
    return out.getvalue()


def _header_names() -> dict[str, str]:
    """Every name a header may have: the column keys, the Dutch aliases, and the column labels in
    every interface language (the template files' headers)."""
    names = dict(ALIASES)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            names.update({str(label).strip().lower(): column for column, label in COLUMN_LABELS.items()})
    return names


class CsvFileError(Exception):
    """The file as a whole cannot be read; the message says why."""


@dataclass
class ParsedCsv:
    rows: list[dict] = field(default_factory=list)
    # The CSV line each row came from (the header is line 1).
    lines: list[int] = field(default_factory=list)


def _normalise_header(name: str, names: dict[str, str]) -> str:
    key = (name or "").strip().lower()
    return names.get(key) or names.get(key.replace("_", " ")) or key.replace(" ", "_")


def parse_people_csv(upload) -> ParsedCsv:
    """Read an uploaded file into rows of ``COLUMNS``; raise CsvFileError for a bad file."""
    if upload is None:
        raise CsvFileError(_("Choose a CSV file to upload."))
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise CsvFileError(
            _("The file is %(size)s MB; the limit is %(limit)s MB. Split it into smaller files.")
            % {"size": f"{size / 1024 / 1024:.1f}", "limit": MAX_BYTES // 1024 // 1024}
        )
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise CsvFileError(
            _("The file is larger than %(limit)s MB. Split it into smaller files.")
            % {"limit": MAX_BYTES // 1024 // 1024}
        )
    if not data.strip():
        raise CsvFileError(_("The file is empty. Start from the template: a header line and one line per person."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFileError(
            _(
                "The file is not UTF-8 text (byte %(position)s cannot be read). In Excel choose "
                '"Save as" → "CSV UTF-8 (comma delimited)".'
            )
            % {"position": exc.start + 1}
        ) from None
    if "\x00" in text:
        raise CsvFileError(_("This is not a CSV text file."))
    first_line = text.splitlines()[0] if text.splitlines() else ""
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise CsvFileError(_("The file is empty.")) from None
    names = _header_names()
    columns = [_normalise_header(name, names) for name in header]
    unknown = [name for name, column in zip(header, columns, strict=True) if column not in COLUMNS]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    duplicated = sorted({column for column in columns if columns.count(column) > 1 and column in COLUMNS})
    if unknown or missing or duplicated:
        parts = []
        if missing:
            parts.append(
                _("missing columns: %(columns)s") % {"columns": ", ".join(str(COLUMN_LABELS[c]) for c in missing)}
            )
        if unknown:
            parts.append(_("unknown columns: %(columns)s") % {"columns": ", ".join(repr(n) for n in unknown)})
        if duplicated:
            parts.append(
                _("columns twice: %(columns)s") % {"columns": ", ".join(str(COLUMN_LABELS[c]) for c in duplicated)}
            )
        raise CsvFileError(
            _("The header line is not right (%(problems)s). Expected: %(expected)s.")
            % {"problems": "; ".join(parts), "expected": ", ".join(str(COLUMN_LABELS[c]) for c in COLUMNS)}
        )
    parsed = ParsedCsv()
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # blank line
            if len(parsed.rows) >= MAX_ROWS:
                raise CsvFileError(
                    _("The file has more than %(max)s people; upload at most %(max)s at a time.") % {"max": MAX_ROWS}
                )
            row = {column: "" for column in COLUMNS}
            for column, value in zip(columns, values, strict=False):
                row[column] = value.strip()
            if len(values) > len(columns):
                row["_extra"] = _("This line has %(count)s values; the header has %(columns)s.") % {
                    "count": len(values),
                    "columns": len(columns),
                }
            parsed.rows.append(row)
            parsed.lines.append(reader.line_num)
    except csv.Error as exc:
        raise CsvFileError(
            _("Line %(line)s cannot be read: %(error)s") % {"line": reader.line_num, "error": exc}
        ) from None
    if not parsed.rows:
        raise CsvFileError(_("The file has a header but no people. Add one line per person."))
    return parsed
