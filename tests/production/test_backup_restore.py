"""Backup and restore as the README describes them: deploy/backup.sh on the running site,
deploy/restore.sh into an empty database; the restored portal starts, its audit chain
verifies and a form signed before the backup still verifies at /verify/."""

import dataclasses
import json
import subprocess

import pytest

from .stack import ROOT, Browser, Database, gunicorn

pytestmark = pytest.mark.production

SIGN_A_FORM = """
import json
from organizations.models import Organization
from requests_app.services import means_request_create, request_sign_as_manager
from users.models import User

anna = User.objects.get(email="anna.dejong@voorbeeld-bv1.nl")
org = Organization.objects.get(name="Voorbeeld BV 1")
person = {"first_name": "Jan", "last_name": "de Vries", "date_of_birth": "1980-04-12", "level": "EH3",
          "email": "jan.devries@voorbeeld-bv1.nl", "years": 3}
request = means_request_create(actor=anna, organization=org, people=[person])
signature = request_sign_as_manager(actor=anna, request=request)
request.refresh_from_db()
open(OUT, "wb").write(bytes(request.signed_pdf))
print(json.dumps({"request": request.pk, "sha256": signature.pdf_sha256}))
"""


def test_backup_then_restore_into_an_empty_database(stack, procs, tmp_path):
    portal = stack.portal
    # Before the backup: a form signed by the portal (as the app role, as the portal does) and a media file.
    signed_path = tmp_path / "signed-before.pdf"
    result = portal.manage("shell", "-c", f"OUT = {str(signed_path)!r}\n" + SIGN_A_FORM, owner=False)
    signed = json.loads(result.stdout.strip().splitlines()[-1])
    media = portal.var_dir / "media" / "uploads"
    media.mkdir(parents=True, exist_ok=True)
    (media / "note.txt").write_text("kept")
    events = stack.db.query("SELECT count(*) FROM audit_auditevent")[0][0]

    backups = tmp_path / "backups"
    env = portal.env(DATABASE_URL=stack.db.url)
    backup = subprocess.run(
        ["bash", str(ROOT / "deploy" / "backup.sh"), str(backups)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    backup_dir = backup.stdout.strip().splitlines()[-1]
    assert (tmp_path / "backups").exists() and backup_dir.startswith(str(backups))

    # A new site: an empty database, its own app role, empty media and signing directories.
    restored_db = Database(owner_url=stack.db.owner_url, name=f"{stack.db.name}_restored", app_role="")
    restored_db.app_role = f"{restored_db.name}_app"
    restored_db.create()
    try:
        restored = dataclasses.replace(
            portal, db=restored_db, var_dir=tmp_path / "new-var", signing_dir=tmp_path / "new-signing"
        )
        restored.var_dir.mkdir()
        restore_env = restored.env(DATABASE_URL=restored_db.url, APP_DB_ROLE=restored_db.app_role)
        restore_env["PYTHON"] = str(ROOT / ".venv" / "bin" / "python")
        restore = subprocess.run(
            ["bash", str(ROOT / "deploy" / "restore.sh"), backup_dir],
            env=restore_env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert restore.returncode == 0, restore.stdout + restore.stderr
        assert _audit_count_line(restore.stdout) == events, restore.stdout
        assert "Restore complete" in restore.stdout
        # Restoring twice into the same database is refused.
        again = subprocess.run(
            ["bash", str(ROOT / "deploy" / "restore.sh"), backup_dir],
            env=restore_env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert again.returncode != 0 and "not empty" in again.stderr

        assert (restored.var_dir / "media" / "uploads" / "note.txt").read_text() == "kept"
        assert (restored.signing_dir / "cert.pem").read_bytes() == (portal.signing_dir / "cert.pem").read_bytes()

        # The restored portal starts, on the app role, and verifies the form signed before the backup.
        _web, port = gunicorn(procs, restored, name="web-restored", workers=1)
        browser = Browser(port)
        assert browser.get("/accounts/login/").status == 200
        verdict = browser.post_file("/verify/", "file", "signed-before.pdf", signed_path.read_bytes())
        assert verdict.status == 200
        assert 'data-valid="1"' in verdict.body, verdict.body[-2000:]
        rows = restored_db.query("SELECT count(*) FROM requests_app_request WHERE id = %s", [signed["request"]])
        assert rows[0][0] == 1
    finally:
        procs.stop_all()
        restored_db.drop()


def _audit_count_line(output: str) -> int:
    for line in output.splitlines():
        if line.startswith("Audit chain intact:"):
            return int(line.split(":")[1].split()[0])
    return -1
