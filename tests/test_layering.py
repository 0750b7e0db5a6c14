"""Dependencies point one way (README, "Map of the code").

Every module of every app is parsed; an import against the direction fails,
lazy imports inside functions included. Only the project modules (settings,
URLs, Celery, WSGI/ASGI, middleware, context processors) may import any app.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first: an app may import the apps before it, never those after it.
LAYERS = ["reconi", "audit", "notifications", "users", "organizations", "authorizations", "requests_app", "portal"]

# The project: wiring named in settings. May import any app; no app imports it.
PROJECT_MODULES = (
    "reconi.settings",
    "reconi.urls",
    "reconi.celery",
    "reconi.wsgi",
    "reconi.asgi",
    "reconi.middleware",
    "reconi.context_processors",
)

# Known and named exceptions: each one is a debt with its reason, never a new import.
KNOWN_EXCEPTIONS = {
    # Rule 13: means_issue tells the representatives of an organisation without a working
    # manager. The decision needs organizations (managers_of, Representative); it belongs in
    # an organizations service once means_issue's callers (support's fulfilment, the Means
    # admin) call that service after issuing.
    ("users/services.py", "organizations"),
}

# Layers inside an app: a module of the kind on the left never imports one on the right
# (of its own app or another). Views and forms sit on top; admin and tasks beside them.
INNER_FORBIDDEN = {
    "models": {"selectors", "services", "views", "forms", "admin", "tasks", "urls", "guards"},
    "selectors": {"services", "views", "forms", "admin", "tasks", "urls", "guards"},
    "services": {"views", "forms", "admin", "urls", "guards"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules():
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _imports(path: Path):
    """(line, absolute module name) of every import in the file, wherever it stands."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module
            yield node.lineno, target
            for alias in node.names:  # ``from . import services`` imports the module ``services``
                yield node.lineno, f"{target}.{alias.name}"


def _is_project(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in PROJECT_MODULES)


def _kind(module: str) -> str | None:
    """models / selectors / services / views / forms / admin / tasks / urls / guards, by module or package name."""
    for part in module.split(".")[1:]:
        name = part.removeprefix("manage_") if part.startswith("manage_") else part
        if name in {"models", "selectors", "services", "views", "forms", "admin", "tasks", "urls", "guards"}:
            return name
    return None


def layering_violations() -> list[str]:
    found = []
    for path in _modules():
        module = _module_name(path)
        app = module.split(".")[0]
        kind = _kind(module)
        # reconi/__init__.py loads the Celery app, as Celery asks: project wiring too.
        importer_is_project = _is_project(module) or module == "reconi"
        for line, target in _imports(path):
            top = target.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line} imports {target}"
            if top in LAYERS:
                if _is_project(target) and not importer_is_project:
                    found.append(f"{where}: the project modules are imported by nobody")
                elif (
                    not importer_is_project
                    and LAYERS.index(top) > LAYERS.index(app)
                    and (str(path.relative_to(ROOT)), top) not in KNOWN_EXCEPTIONS
                ):
                    found.append(f"{where}: {app} is below {top}")
                target_kind = _kind(target)
                if kind in INNER_FORBIDDEN and target_kind in INNER_FORBIDDEN[kind]:
                    found.append(f"{where}: {kind} never import {target_kind}")
    return sorted(set(found))


def test_every_app_is_in_a_layer():
    from django.conf import settings

    ours = [app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir()]
    assert sorted(ours) == sorted(LAYERS[1:])


def test_imports_follow_the_layers():
    assert layering_violations() == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("users/probe.py", "def f():\n    from requests_app.models import Request\n", "users is below requests_app"),
        ("reconi/probe.py", "import organizations.models\n", "reconi is below organizations"),
        ("audit/probe.py", "from reconi.urls import urlpatterns\n", "the project modules are imported by nobody"),
        ("users/models.py", "from . import services\n", "models never import services"),
        ("authorizations/selectors.py", "from .services import x\n", "selectors never import services"),
    ],
)
def test_a_wrong_import_is_found(tmp_path, monkeypatch, module, source, expected):
    """The check itself: each kind of wrong import is reported (lazy ones too)."""
    probe = tmp_path / module
    probe.parent.mkdir(parents=True, exist_ok=True)
    probe.write_text(source)
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    monkeypatch.setattr(f"{__name__}._modules", lambda: [probe])
    assert any(expected in line for line in layering_violations())
