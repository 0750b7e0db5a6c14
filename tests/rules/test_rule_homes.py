"""A rule lives once: its message is written in one rules module and nowhere else.

The rule modules (``*/rules.py``) hold every refusal's message. This test reads the
msgids they define and fails when any of them is written a second time: in another
rule module, or anywhere in the production code or templates.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULE_MODULES = sorted(ROOT.glob("*/rules.py"))
SKIP_DIRS = {".venv", "tests", "migrations", "bench", "node_modules", "var", "static", "locale", ".git"}
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "pgettext"}


def _msgids(path: Path) -> list[str]:
    """The literal first arguments of gettext calls in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in GETTEXT_NAMES
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(node.args[0].value)
    return found


def _production_files():
    for path in ROOT.rglob("*"):
        if path.suffix not in (".py", ".html", ".txt") or not path.is_file():
            continue
        if SKIP_DIRS & set(path.relative_to(ROOT).parts) or path in RULE_MODULES:
            continue
        yield path


def test_the_rule_modules_exist():
    names = {path.parent.name for path in RULE_MODULES}
    assert {"reconi", "users", "organizations", "authorizations"} <= names


def test_no_rule_message_is_defined_twice_among_the_rule_modules():
    seen: dict[str, Path] = {}
    twice = []
    for path in RULE_MODULES:
        for msgid in _msgids(path):
            if msgid in seen:
                twice.append((msgid, seen[msgid].relative_to(ROOT), path.relative_to(ROOT)))
            seen[msgid] = path
    assert twice == []


def _copies(msgids: set[str], paths) -> list[tuple[str, str]]:
    """Where a msgid stands again as a quoted string (a Python literal, a template's translate tag)."""
    copies = []
    for path in paths:
        text = path.read_text(errors="ignore")
        copies += [(path.name, msgid) for msgid in msgids if f'"{msgid}"' in text or f"'{msgid}'" in text]
    return copies


def _rule_msgids() -> set[str]:
    return {msgid for path in RULE_MODULES for msgid in _msgids(path)}


def test_no_rule_message_is_written_outside_its_rule_module():
    msgids = _rule_msgids()
    assert len(msgids) > 15
    assert _copies(msgids, _production_files()) == [], "call the rule function instead of writing its message again"


def test_a_message_copied_into_a_service_or_template_is_found(tmp_path):
    msgid = _msgids(ROOT / "authorizations" / "rules.py")[0]
    service = tmp_path / "services.py"
    service.write_text(f"raise ValidationError(_({msgid!r}))\n")
    template = tmp_path / "page.html"
    template.write_text("{% translate " + repr(msgid).replace("'", '"') + " %}\n")
    assert _copies(_rule_msgids(), [service, template]) == [("services.py", msgid), ("page.html", msgid)]


RULE_MENTION = re.compile(r"\b[Rr]ules? (\d+(?:(?:, | and | or |-)\d+)*)")


def _rule_numbers(text: str) -> list[str]:
    return [number for mention in RULE_MENTION.findall(text) for number in re.findall(r"\d+", mention)]


def test_rule_mentions_are_read_in_every_form():
    assert _rule_numbers("rules 1, 2 and 3; Rule 11: x; rule 5") == ["1", "2", "3", "11", "5"]


def test_each_rule_number_is_named_at_one_function_only():
    """DESIGN's rule numbers appear once in the code, at the function (or class) that enforces them."""
    places: dict[str, list[str]] = {}
    for path in _production_files():
        if path.suffix != ".py":
            continue
        for number in _rule_numbers(path.read_text()):
            places.setdefault(number, []).append(str(path.relative_to(ROOT)))
    for path in RULE_MODULES:
        for number in _rule_numbers(path.read_text()):
            places.setdefault(number, []).append(str(path.relative_to(ROOT)))
    twice = {number: where for number, where in places.items() if len(where) > 1}
    assert twice == {}
    assert sorted(places, key=int) == [str(number) for number in range(1, 17)], "every rule has its one home"
