"""The Kubernetes manifests and the Prometheus alerting rules under deploy/.

The manifests are validated offline against the Kubernetes 1.33 JSON schemas that the
kubernetes-validate package ships (strict: unknown fields fail), and checked for the shape the
README describes: N web + M workers + 1 beat, one image, non-root, shared media, and only
settings the portal reads. What is not checked: that a cluster accepts them (no cluster here),
and the Kustomization file against a schema (kustomize's own format; its file list is checked).
"""

import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _resources() -> list[tuple[str, dict]]:
    return [
        (path.name, doc)
        for path in sorted(K8S.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in _documents(path)
    ]


def _by_kind_and_name() -> dict[tuple[str, str], dict]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for _file, doc in _resources()}


@pytest.mark.parametrize(("filename", "resource"), _resources(), ids=lambda v: v if isinstance(v, str) else "")
def test_manifest_is_valid_against_the_kubernetes_schema(filename, resource):
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_validation_would_catch_a_mistake():
    deployment = _by_kind_and_name()[("Deployment", "reconi-web")]
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["envfrom"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest_but_the_secret_example():
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert listed == present


def test_shape_n_web_m_workers_one_beat_from_one_non_root_image():
    resources = _by_kind_and_name()
    web = resources[("Deployment", "reconi-web")]
    worker = resources[("Deployment", "reconi-worker")]
    beat = resources[("Deployment", "reconi-beat")]
    assert web["spec"]["replicas"] >= 2 and worker["spec"]["replicas"] >= 2
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    pods = [d["spec"]["template"]["spec"] for d in (web, worker, beat)]
    pods.append(resources[("Job", "reconi-migrate")]["spec"]["template"]["spec"])
    assert len({container["image"] for pod in pods for container in pod["containers"]}) == 1
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert {"configMapRef": {"name": "reconi"}} in container["envFrom"]
            assert {"secretRef": {"name": "reconi"}} in container["envFrom"]
    # Web and workers share the media volume, which must be ReadWriteMany.
    for deployment in (web, worker):
        claims = [
            v["persistentVolumeClaim"]["claimName"]
            for v in deployment["spec"]["template"]["spec"]["volumes"]
            if "persistentVolumeClaim" in v
        ]
        assert claims == ["reconi-media"]
    assert resources[("PersistentVolumeClaim", "reconi-media")]["spec"]["accessModes"] == ["ReadWriteMany"]
    probe = web["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]
    assert probe["path"] == "/healthz"


def _settings_read() -> set[str]:
    """Every environment variable the portal, gunicorn's config and the migrate Job read."""
    names = set()
    for path in [*(ROOT / "reconi" / "settings").glob("*.py"), ROOT / "deploy" / "gunicorn.conf.py"]:
        text = path.read_text()
        names |= set(re.findall(r"env_(?:str|bool|list)\(\s*\"([A-Z_]+)\"", text))
        names |= set(re.findall(r"os\.environ(?:\.get)?[\(\[]\s*\"([A-Z_]+)\"", text))
    return names | {"DJANGO_SETTINGS_MODULE", "PROMETHEUS_MULTIPROC_DIR", "OWNER_DATABASE_URL"}


def test_configuration_holds_only_settings_the_portal_reads():
    resources = _by_kind_and_name()
    config = set(resources[("ConfigMap", "reconi")]["data"])
    secret = set(_documents(K8S / "secret.example.yaml")[0]["stringData"])
    unknown = (config | secret) - _settings_read()
    assert not unknown, f"set but never read: {sorted(unknown)}"
    for required in (
        "SECRET_KEY",
        "MFA_ENCRYPTION_KEYS",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "CACHE_URL",
        "EMAIL_URL",
        "METRICS_TOKEN",
    ):
        assert required in secret
    assert "ALLOWED_HOSTS" in config and config.isdisjoint(secret)


# Alerting rules ----------------------------------------------------------------------------------------------


def _rules() -> list[dict]:
    document = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_three_alerts_page_someone_and_every_rule_is_complete():
    rules = _rules()
    for rule in rules:
        assert set(rule) >= {"alert", "expr", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert rule["annotations"]["summary"]
    pages = [rule["alert"] for rule in rules if rule["labels"]["severity"] == "page"]
    assert pages == ["ReconiOutboxStuck", "ReconiReminderRunMissing", "ReconiWebErrors"]


@pytest.mark.django_db
def test_alerts_use_only_metrics_that_metrics_serves(settings, anna):
    from django.core.cache import cache

    from reconi.metrics import REMINDER_RUN_CACHE_KEY, reminder_run_record
    from tests.conftest import login

    settings.METRICS_TOKEN = "t" * 20
    reminder_run_record(started=1.0, finished=2.0, due=0, claimed=0, queued=0, failed=0)
    client = login(Client(), anna)
    client.get("/")
    text = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer " + "t" * 20).content.decode()
    cache.delete(REMINDER_RUN_CACHE_KEY)
    served = set(re.findall(r"^(reconi_[a-z_]+)", text, re.MULTILINE))
    used = {name for rule in _rules() for name in re.findall(r"reconi_[a-z_]+", rule["expr"])}
    assert used and used <= served, f"not served: {sorted(used - served)}"
