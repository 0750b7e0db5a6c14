"""One lock for everything that runs in production, and an image built from it alone."""

import importlib.util
import re
import shlex
from pathlib import Path

from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("deploy_lock", ROOT / "deploy" / "lock.py")
lock = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lock)


def _name_and_pin(requirement: str) -> tuple[str, str]:
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]+\])?==(\S+)", requirement)
    assert match, f"pyproject.toml: not an exact pin: {requirement}"
    return canonicalize_name(match.group(1)), match.group(3)


def test_every_production_dependency_is_pinned_in_the_production_lock_at_its_pyproject_version():
    production, _dev = lock.pyproject_dependencies()
    pins = lock.read_lock(ROOT / "requirements.lock")
    for requirement in production:
        name, version = _name_and_pin(requirement)
        assert pins.get(name) == version, f"{name}: pyproject {version}, requirements.lock {pins.get(name)}"
    assert "gunicorn" in pins and "prometheus-client" in pins


def test_dev_tools_are_pinned_in_the_dev_lock_which_includes_the_production_lock():
    _production, dev = lock.pyproject_dependencies()
    text = (ROOT / "requirements-dev.lock").read_text()
    assert "-r requirements.lock" in text.splitlines()
    pins = lock.read_lock(ROOT / "requirements.lock") | lock.read_lock(ROOT / "requirements-dev.lock")
    for requirement in dev:
        name, version = _name_and_pin(requirement)
        assert pins.get(name) == version, f"{name}: pyproject {version}, lock {pins.get(name)}"


def test_production_lock_holds_everything_production_needs_transitively():
    production, _dev = lock.pyproject_dependencies()
    needed = lock.closure(production)
    pinned = set(lock.read_lock(ROOT / "requirements.lock"))
    assert needed - pinned == set(), "requirements.lock misses what production needs (run `make lock`)"


def test_production_lock_pins_the_installed_versions():
    installed = {name: pin.split("==", 1)[1] for name, pin in lock.installed_pins().items()}
    for path in ("requirements.lock", "requirements-dev.lock"):
        for name, version in lock.read_lock(ROOT / path).items():
            assert installed.get(name) == version, f"{path}: {name}=={version}, installed {installed.get(name)}"


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_image_installs_python_packages_from_the_production_lock_alone():
    runs = [rest for keyword, rest in _dockerfile_instructions() if keyword == "RUN"]
    installs = []
    for run in runs:
        for command in re.split(r"&&|;", run):
            words = shlex.split(command)
            if "pip" in words and "install" in words:
                installs.append(words)
    assert installs, "the Dockerfile installs no Python packages"
    for words in installs:
        arguments = words[words.index("install") + 1 :]
        packages = [a for a in arguments if not a.startswith("-")]
        assert arguments.count("-r") == 1 and packages == ["requirements.lock"], f"installs outside the lock: {words}"
        assert "--no-deps" in arguments, "the lock pins everything: pip must not resolve more"


def test_image_runs_as_a_non_root_user_with_a_health_check():
    instructions = _dockerfile_instructions()
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    cmd_index = max(i for i, (keyword, _rest) in enumerate(instructions) if keyword == "CMD")
    assert instructions.index(("USER", users[-1])) < cmd_index
    health = [rest for keyword, rest in instructions if keyword == "HEALTHCHECK"]
    assert health and "deploy/healthcheck.py" in health[0]
    assert (ROOT / "deploy" / "healthcheck.py").exists()
    cmd = [rest for keyword, rest in instructions if keyword == "CMD"][-1]
    assert "gunicorn" in cmd and "deploy/gunicorn.conf.py" in cmd
