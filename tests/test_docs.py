"""The repository documents itself, and its documentation stays in step with the code.

- Nothing points outside the repository for the domain, the rules or the contract.
- docs/rules.md lists rules 1–16; every module, function and test it names exists.
- Every URL name of the portal appears in docs/contract.md.
- Links between the README and docs/ resolve.
- The ``--help`` of every management command stands on its own (no rule numbers).
"""

import importlib
import re
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.urls import get_resolver

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
OURS = ("reconi", "audit", "users", "organizations", "notifications", "authorizations", "requests_app", "portal")
TEXT_SUFFIXES = {".py", ".md", ".html", ".txt", ".toml", ".cfg", ".yml", ".yaml", ""}
SKIP_DIRS = {".git", ".venv", "node_modules", "var", "static", "locale", "__pycache__"}


def _repository_files():
    for path in ROOT.rglob("*"):
        if path.is_file() and not SKIP_DIRS & set(path.relative_to(ROOT).parts) and path.suffix in TEXT_SUFFIXES:
            yield path


def test_nothing_points_outside_the_repository_for_its_documentation():
    outside = re.compile(r"\.\./shared|DESIGN\.md")
    offenders = [
        str(path.relative_to(ROOT))
        for path in _repository_files()
        if path != Path(__file__) and outside.search(path.read_text(errors="ignore"))
    ]
    assert offenders == []


def _rule_rows() -> dict[int, str]:
    rows = {}
    for line in (DOCS / "rules.md").read_text().splitlines():
        match = re.match(r"\|\s*(\d+)\s*\|", line)
        if match:
            rows[int(match.group(1))] = line
    return rows


def test_rules_1_to_16_are_documented_each_with_code_and_a_test():
    rows = _rule_rows()
    assert sorted(rows) == list(range(1, 17))
    for number, row in rows.items():
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == 4, f"rule {number}: number, rule, enforced in, tested in"
        assert re.search(r"`[a-z_]+\.[a-zA-Z_.]+`", cells[2]), f"rule {number} names no code"
        assert "tests/" in cells[3], f"rule {number} names no test"


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _is_task_or_permission(dotted: str) -> bool:
    from django.apps import apps

    from reconi.celery import app as celery_app

    celery_app.loader.import_default_modules()
    if dotted in celery_app.tasks:
        return True
    app_label, _dot, codename = dotted.partition(".")
    if not apps.is_installed(app_label):
        return False
    return any(
        codename in {name for name, _label in model._meta.permissions}
        for model in apps.get_app_config(app_label).get_models()
    )


def _resolves(dotted: str) -> bool:
    """``app.module.function`` (or a module, ``Class.method``, a Celery task or a permission) exists."""
    # Modules are found as files, not imported: the production settings check the environment.
    if _is_module(dotted) or _is_task_or_permission(dotted):
        return True
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        if not _is_module(".".join(parts[:split])):
            continue
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for name in parts[split:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


def _named_code(text: str) -> set[str]:
    names = set()
    for token in re.findall(r"`([^`\s]+)`", text):
        token = token.split("(")[0].rstrip(",")
        if token.split(".")[0] in OURS and "." in token and not token.endswith((".py", ".html", ".md")):
            names.add(token)
    return names


@pytest.mark.parametrize("page", ["rules.md", "domain.md", "contract.md"])
def test_every_module_and_function_the_docs_name_exists(page):
    text = (DOCS / page).read_text()
    missing = sorted(name for name in _named_code(text) if not _resolves(name))
    assert missing == []
    paths = set(re.findall(r"`((?:tests|docs|bench|templates|[a-z_]+)/[^`\s]*)`", text))
    # var/ holds what a run makes (database, mail, media): not in a fresh clone.
    missing_paths = sorted(p for p in paths if not p.startswith("var/") and not (ROOT / p.split("::")[0]).exists())
    assert missing_paths == []


def test_every_test_function_the_rules_name_exists():
    text = (DOCS / "rules.md").read_text()
    for name in re.findall(r"`(test_[a-z0-9_]+)`", text):
        assert any(f"def {name}(" in path.read_text() for path in (ROOT / "tests").rglob("test_*.py")), name


def _named_views(patterns):
    """(URL name, module of its view) for every named pattern, included ones too."""
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            if pattern.namespace != "admin":  # the admin's pages are Django's, not part of the contract
                yield from _named_views(pattern.url_patterns)
        elif pattern.name:
            yield pattern.name, getattr(pattern.callback, "__module__", "")


def test_every_url_name_of_the_portal_is_in_the_contract():
    contract = (DOCS / "contract.md").read_text()
    ours = {name for name, module in _named_views(get_resolver().url_patterns) if module.split(".")[0] in OURS}
    assert {"home", "permission_list", "request_detail", "sign", "verify"} <= ours
    assert sorted(name for name in ours if f"`{name}`" not in contract) == []


def test_links_between_readme_and_docs_resolve():
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert (page.parent / target).resolve().exists(), f"{page.name} links to missing {target}"
    readme = (ROOT / "README.md").read_text()
    for page in ("docs/domain.md", "docs/rules.md", "docs/contract.md"):
        assert f"({page}" in readme


def test_management_command_help_stands_on_its_own():
    for name, app in get_commands().items():
        if app not in OURS:
            continue
        help_text = load_command_class(app, name).create_parser("manage.py", name).format_help()
        assert not re.search(r"\brule \d+|DESIGN|\.\./", help_text, re.IGNORECASE), name
