"""The translation catalogues: Dutch (the default, the source of truth for wording) is complete
and compiled; English is served at /en/. Each msgstr keeps the placeholders and markup of its msgid.

The .po files are read with a small parser below so that no gettext tooling is needed to run the suite.
"""

import ast
import gettext as gettext_module
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

from tests.conftest import login

LOCALE = Path(settings.BASE_DIR) / "locale"
NL_PO = LOCALE / "nl" / "LC_MESSAGES" / "django.po"
NL_MO = LOCALE / "nl" / "LC_MESSAGES" / "django.mo"
EN_PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
EN_MO = LOCALE / "en" / "LC_MESSAGES" / "django.mo"

# %(name)s, %(count)d, bare %s/%d, and str.format's {name}; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%\([^)]+\)[#0 +-]*\d*(?:\.\d+)?[sdifr]|%[sdif]|\{[A-Za-z_][A-Za-z0-9_]*\}")
TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*")


@dataclass
class Entry:
    msgid: str
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def label(self) -> str:
        return f"line {self.line}: {self.msgid[:70]!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file, the header (msgid "") included, obsolete (#~) ones left out."""
    entries: list[Entry] = []
    current: Entry | None = None
    flags: set[str] = set()
    target: tuple[str, int] | None = None  # which field a continuation line extends

    def finish():
        nonlocal current, flags, target
        if current is not None:  # flags read since the last entry belong to the next one
            entries.append(current)
            current, flags, target = None, set(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line:
                finish()
            continue
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            kind, index = target
            if kind == "msgstr":
                current.msgstr[index] += _unquote(line)
            else:
                setattr(current, kind, getattr(current, kind) + _unquote(line))
        elif keyword == "msgctxt":
            finish()
            current = Entry(msgid="", msgctxt=_unquote(rest), line=number)
            target = ("msgctxt", 0)
        elif keyword == "msgid":
            if current is None or current.msgctxt is None or current.msgid:
                finish()
                current = Entry(msgid="", line=number)
            current.msgid, current.flags, target = _unquote(rest), flags, ("msgid", 0)
        elif keyword == "msgid_plural":
            current.msgid_plural, target = _unquote(rest), ("msgid_plural", 0)
        elif keyword.startswith("msgstr"):
            index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
            while len(current.msgstr) <= index:
                current.msgstr.append("")
            current.msgstr[index] = _unquote(rest)
            target = ("msgstr", index)
        else:
            raise ValueError(f"{path}:{number}: cannot parse {raw!r}")
    finish()
    return entries


def messages(path: Path) -> list[Entry]:
    return [entry for entry in parse_po(path) if entry.msgid]


def header(path: Path) -> Entry:
    return next(entry for entry in parse_po(path) if not entry.msgid)


def sources(entry: Entry) -> list[tuple[str, str]]:
    """(source text, its translation) pairs: the singular and, for plurals, the plural form."""
    if entry.msgid_plural is None:
        return [(entry.msgid, entry.msgstr[0])]
    return [(entry.msgid, entry.msgstr[0]), (entry.msgid_plural, entry.msgstr[1])]


def placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text.replace("%%", "")))


# --- (a) the Dutch catalogue is complete -------------------------------------------------


def test_parser_reads_plurals_contexts_and_continuation_lines(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: nl\\n"\n\n'
        "#, fuzzy, python-format\n"
        'msgctxt "menu"\nmsgid "Manage"\nmsgstr "Beheren"\n\n'
        'msgid ""\n"Two "\n"lines"\nmsgstr "Twee \\"regels\\""\n\n'
        'msgid "%(n)s year"\nmsgid_plural "%(n)s years"\nmsgstr[0] "%(n)s jaar"\nmsgstr[1] ""\n"%(n)s jaar"\n\n'
        '#~ msgid "Old"\n#~ msgstr "Oud"\n',
        encoding="utf-8",
    )
    head, manage, two, year = parse_po(po)
    assert head.msgstr == ["Language: nl\n"]
    assert (manage.msgctxt, manage.msgid, manage.msgstr, manage.flags) == (
        "menu",
        "Manage",
        ["Beheren"],
        {"fuzzy", "python-format"},
    )
    assert (two.msgid, two.msgstr) == ("Two lines", ['Twee "regels"'])
    assert (year.msgid_plural, year.msgstr) == ("%(n)s years", ["%(n)s jaar", "%(n)s jaar"])


def test_dutch_catalogue_has_messages():
    # makemessages found the project's strings: an empty catalogue would pass the checks below trivially.
    assert len(messages(NL_PO)) > 500


def test_every_dutch_msgid_has_a_translation():
    untranslated = [entry.label for entry in messages(NL_PO) if not all(text.strip() for text in entry.msgstr)]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:20]}"


def test_every_dutch_plural_has_both_forms():
    incomplete = [entry.label for entry in messages(NL_PO) if entry.msgid_plural is not None and len(entry.msgstr) != 2]
    assert not incomplete, incomplete


def test_no_fuzzy_entries_in_the_catalogues():
    # msgfmt leaves fuzzy entries out of the .mo: a fuzzy line would silently show English.
    # A fuzzy header would drop the charset and the plural rule.
    for path in (NL_PO, EN_PO):
        fuzzy = [entry.label for entry in parse_po(path) if "fuzzy" in entry.flags]
        assert not fuzzy, f"{path}: {fuzzy[:20]}"


def test_dutch_header_declares_language_charset_and_plural_rule():
    text = header(NL_PO).msgstr[0]
    assert "Language: nl\n" in text
    assert "charset=UTF-8" in text
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in text


def test_english_and_dutch_catalogues_have_the_same_msgids():
    # Both come from one makemessages run; a difference means one was regenerated without the other.
    def keys(path):
        return {(entry.msgctxt, entry.msgid, entry.msgid_plural) for entry in messages(path)}

    nl, en = keys(NL_PO), keys(EN_PO)
    assert nl - en == set() and en - nl == set()


# What makemessages extracts, found without gettext: Python calls by keyword (as xgettext is told by
# makemessages) and templates through Django's own templatize, the step makemessages runs before xgettext.
KEYWORDS = {  # name: (index of msgctxt, index of msgid)
    "_": (None, 0),
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "gettext_noop": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}
NOT_SCANNED = {".venv", "var", "tests", "test-artifacts", "bench", "static", "locale", "node_modules"}


def _calls(tree) -> set[tuple[str | None, str]]:
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in KEYWORDS:
            continue
        context_at, msgid_at = KEYWORDS[name]
        literals = [
            arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None for arg in node.args
        ]
        if len(literals) > msgid_at and literals[msgid_at] is not None:
            found.add((literals[context_at] if context_at is not None else None, literals[msgid_at]))
    return found


def _template_calls(source: str) -> set[tuple[str | None, str]]:
    code, found = templatize(source), set()
    for match in re.finditer(r"(?<![\w.])(?:_|n?p?gettext)\(", code):
        # the call ends at the first ")" after which it parses (a ")" inside a string does not)
        for end in (i for i in range(match.end(), len(code)) if code[i] == ")"):
            try:
                tree = ast.parse(code[match.start() : end + 1], mode="eval")
            except SyntaxError:
                continue
            found |= _calls(tree)
            break
    return found


def source_messages() -> dict[tuple[str | None, str], str]:
    """(msgctxt, msgid) of every translatable string in the code and templates, with a file it is in."""
    root, found = Path(settings.BASE_DIR), {}
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if not path.is_file() or any(part in NOT_SCANNED or part.startswith(".") for part in parts[:-1]):
            continue
        if path.suffix == ".py":
            keys = _calls(ast.parse(path.read_text(encoding="utf-8")))
        elif path.suffix in (".html", ".txt"):
            keys = _template_calls(path.read_text(encoding="utf-8"))
        else:
            continue
        for key in keys:
            found.setdefault(key, str(path.relative_to(root)))
    return found


def test_every_string_in_the_code_and_templates_is_in_the_dutch_catalogue():
    # A new {% translate %} or gettext() without `make messages` would show English on Dutch pages.
    catalogue = {(entry.msgctxt, entry.msgid) for entry in messages(NL_PO)}
    missing = [
        f"{where}: {msgid!r}"
        for (context, msgid), where in source_messages().items()
        if (context, msgid) not in catalogue
    ]
    assert not missing, "run `make messages` and translate:\n" + "\n".join(missing)


def test_source_scan_finds_translate_blocktranslate_plural_and_context():
    found = _template_calls(
        '{% load i18n %}{% translate "Manage" %}{% translate "May" context "month" %}{{ x|default:_("Nobody") }}'
        "{% blocktranslate trimmed with n=x %}\n  Hello\n  {{ n }}\n{% endblocktranslate %}"
        "{% blocktranslate count counter=c %}{{ counter }} user{% plural %}{{ counter }} users{% endblocktranslate %}"
    )
    assert found == {
        (None, "Manage"),
        ("month", "May"),
        (None, "Nobody"),
        (None, "Hello %(n)s"),
        (None, "%(counter)s user"),
    }
    assert _calls(ast.parse('_("A"); ngettext("b", "bs", 2); pgettext_lazy("ctx", "C"); print("D")')) == {
        (None, "A"),
        (None, "b"),
        ("ctx", "C"),
    }
    assert len(source_messages()) > 500


# --- (d) placeholders and markup survive translation -------------------------------------


def test_dutch_translations_keep_the_placeholders_of_their_msgid():
    wrong = []
    for entry in messages(NL_PO):
        for source, translated in sources(entry):
            if entry.msgid_plural is not None and source == entry.msgid and not placeholders(translated):
                # A singular form may spell the number out ("Your authorization expires soon").
                continue
            if set(placeholders(source)) != set(placeholders(translated)):
                wrong.append(f"{entry.label}: {sorted(placeholders(source))} vs {sorted(placeholders(translated))}")
    assert not wrong, "\n".join(wrong)


def test_dutch_translations_keep_the_markup_of_their_msgid():
    wrong = []
    for entry in messages(NL_PO):
        for source, translated in sources(entry):
            if Counter(TAG.findall(source)) != Counter(TAG.findall(translated)):
                wrong.append(entry.label)
    assert not wrong, wrong


def test_placeholder_check_catches_a_renamed_or_dropped_placeholder():
    assert set(placeholders("%(user)s renewed until %(date)s")) != set(placeholders("%(gebruiker)s verlengd"))
    assert set(placeholders("Upgrade to {level}")) != set(placeholders("Upgraden naar {niveau}"))
    assert set(placeholders("100%% sure, %(count)d")) == set(placeholders("%(count)d, 100%% zeker"))


# --- (b) the compiled .mo agrees with the .po --------------------------------------------


@pytest.mark.parametrize("po_path, mo_path", [(NL_PO, NL_MO), (EN_PO, EN_MO)], ids=["nl", "en"])
def test_compiled_catalogue_matches_the_po(po_path, mo_path):
    # A forgotten compilemessages after editing the .po fails here.
    with mo_path.open("rb") as handle:
        compiled = gettext_module.GNUTranslations(handle)
    stale = []
    for entry in messages(po_path):
        if not all(entry.msgstr):
            continue  # msgfmt leaves untranslated entries out; gettext then falls back to the msgid
        if entry.msgid_plural is None:
            got = [compiled.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else compiled.gettext(entry.msgid)]
        else:
            got = [
                compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                if entry.msgctxt
                else compiled.ngettext(entry.msgid, entry.msgid_plural, n)
                for n in (1, 2)
            ]
        if got != entry.msgstr:
            stale.append(entry.label)
    assert not stale, f"{len(stale)} entries differ; run compilemessages: {stale[:10]}"


def test_django_serves_the_dutch_catalogue_of_this_project():
    # Django's own catalogues come after LOCALE_PATHS, so ours wins where a msgid coincides
    # ("Home" would otherwise be Django's "Voorpagina").
    wrong = []
    with translation.override("nl"):
        for entry in messages(NL_PO):
            if entry.msgctxt:
                got = [translation.pgettext(entry.msgctxt, entry.msgid)]
            elif entry.msgid_plural is None:
                got = [translation.gettext(entry.msgid)]
            else:
                got = [translation.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)]
            if got != entry.msgstr[: len(got)]:
                wrong.append(f"{entry.label} -> {got}")
    assert not wrong, wrong[:10]


def test_english_falls_back_to_the_english_msgids():
    with translation.override("en"):
        assert translation.gettext("Manage") == "Manage"
        assert translation.gettext("Show inactive permissions too") == "Show inactive permissions too"


# --- (c) pages render in Dutch at / and in English at /en/ -------------------------------


def english_only_msgids() -> list[str]:
    """Longer English msgids whose Dutch differs: none of these may show on a Dutch page."""
    return [
        entry.msgid
        for entry in messages(NL_PO)
        if entry.msgid_plural is None
        and not placeholders(entry.msgid)
        and len(entry.msgid) >= 20
        and entry.msgstr[0] != entry.msgid
    ]


def visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"\s+", " ", re.sub(r"(?s)<[^>]+>", " ", html))


def assert_no_english(html: str):
    text = visible_text(html)
    leaked = [msgid for msgid in english_only_msgids() if msgid in text]
    assert not leaked, leaked


def test_manager_header_is_dutch_by_default(client, anna):
    login(client, anna)
    html = client.get("/manage/").content.decode()
    assert '<html lang="nl">' in html
    nav = html[html.index("<header") : html.index("</nav>", html.index('data-testid="manage-tabs"'))]
    for word in ("Home", "Beheren", "Overzicht", "Machtigingen", "Gebruikers", "Aanvragen", "Uitloggen"):
        assert re.search(rf">\s*(<i [^>]*></i>\s*)?{word}\s*<", nav), f"{word!r} missing from the Dutch header"
    for word in ("Manage", "Permissions", "Users", "Requests", "Log out", "Voorpagina"):
        assert not re.search(rf">\s*(<i [^>]*></i>\s*)?{word}\s*<", nav), f"{word!r} in the Dutch header"


def test_manager_header_is_english_under_en(client, anna):
    login(client, anna)
    html = client.get("/en/manage/").content.decode()
    assert '<html lang="en">' in html
    nav = html[html.index("<header") : html.index("</nav>", html.index('data-testid="manage-tabs"'))]
    for word in ("Home", "Manage", "Overview", "Permissions", "Users", "Requests", "Log out"):
        assert re.search(rf">\s*(<i [^>]*></i>\s*)?{word}\s*<", nav), f"{word!r} missing from the English header"
    assert "Beheren" not in nav and "Machtigingen" not in nav


@pytest.mark.parametrize(
    "path, dutch, english",
    [
        ("/", ["Mijn eHerkenningsmiddel", "Mijn machtigingen", "Naar Beheren"], ["My means", "Go to Manage"]),
        (
            "/manage/permissions/",
            ["Nieuwe machtigingen aanvragen", "Toon ook inactieve machtigingen", "Machtigingen verlengen"],
            ["Request new permissions", "Show inactive permissions too", "Renew permissions"],
        ),
        (
            "/manage/permissions/new/",
            ["Nieuwe machtigingen aanvragen", "Selecteer de organisatie waarvoor u de gebruiker wilt machtigen."],
            ["Request new permissions", "Select the organisation for which you want to authorize the user."],
        ),
        ("/manage/", ["Overzicht", "Machtigingen in totaal"], ["Overview", "Permissions in total"]),
        ("/manage/users/", ["Gebruikers toevoegen", "Exporteren als CSV"], ["Add users", "Export as CSV"]),
        ("/manage/requests/", ["Nieuwe aanvraag", "Gebruikers toevoegen"], ["New request", "Add users"]),
    ],
)
def test_manager_pages_render_in_dutch_and_in_english(client, anna, bram, path, dutch, english):
    login(client, anna)
    nl = client.get(path)
    assert nl.status_code == 200
    nl_html = nl.content.decode()
    for text in dutch:
        assert text in nl_html, f"{text!r} missing at {path}"
    assert_no_english(nl_html)

    en_html = client.get("/en" + path).content.decode()
    for text in english:
        assert text in en_html, f"{text!r} missing at /en{path}"
    for text in dutch:
        assert text not in en_html, f"{text!r} on the English page /en{path}"


def test_permissions_list_rows_are_dutch(client, anna, bram, org, service_eh2, service_eh3):
    from tests.factories import AuthorizationFactory

    AuthorizationFactory(user=bram, organization=org, service=service_eh2, expiring=True)
    AuthorizationFactory(user=bram, organization=org, service=service_eh3, expired=True)
    AuthorizationFactory(user=bram, organization=org, service=service_eh3, revoked=True)
    login(client, anna)
    html = client.get("/manage/permissions/?show_inactive=1").content.decode()
    for text in ("Actief", "Verlopen", "Ingetrokken", "Activeren", "Verlengen", "verloopt binnenkort", "1 jaar"):
        assert text in html, f"{text!r} missing"
    assert_no_english(html)


def test_login_page_is_dutch_by_default_and_english_under_en(client, db):
    nl = client.get("/accounts/login/").content.decode()
    assert "Inloggen bij Mijn Reconi" in nl
    assert_no_english(nl)
    en = client.get("/en/accounts/login/").content.decode()
    assert "Log in to My Reconi" in en and "Inloggen bij Mijn Reconi" not in en
