#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh into an EMPTY database. Usage:
#
#   deploy/restore.sh BACKUP_DIRECTORY
#
# Environment:
#   DATABASE_URL                         the new, empty database, as the role that will own the tables
#   APP_DB_ROLE                          (optional) the application's role: granted its rights afterwards
#   RECONI_VAR_DIR                       where media/ is unpacked
#   SIGNING_KEY_FILE, SIGNING_CERT_FILE  where the signing key and certificate are put back
#   DJANGO_SETTINGS_MODULE, SECRET_KEY, ALLOWED_HOSTS, ...  as for the portal: used for the checks
#
# Then checks: the files match SHA256SUMS, no migration is missing, the audit log's hash chain
# is intact. Start the portal (web, worker, beat) only after it prints "Restore complete".
set -euo pipefail
cd "$(dirname "$0")/.."

src="${1:?usage: deploy/restore.sh BACKUP_DIRECTORY}"
: "${DATABASE_URL:?DATABASE_URL must be set}"
: "${RECONI_VAR_DIR:?RECONI_VAR_DIR must be set}"
: "${SIGNING_KEY_FILE:?SIGNING_KEY_FILE must be set}"
: "${SIGNING_CERT_FILE:?SIGNING_CERT_FILE must be set}"
PYTHON="${PYTHON:-python}"

(cd "$src" && sha256sum --check --quiet SHA256SUMS)

tables=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != "0" ]; then
  echo "The database is not empty ($tables tables): restore into a new, empty database." >&2
  exit 1
fi

# --no-owner: the restoring role owns the tables; --no-acl: rights are granted below, to this site's role.
pg_restore --no-owner --no-acl --exit-on-error --dbname="$DATABASE_URL" "$src/database.dump"
if [ -n "${APP_DB_ROLE:-}" ]; then
  psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -v app_role="$APP_DB_ROLE" -f deploy/postgres/app-role.sql
fi

mkdir -p "$RECONI_VAR_DIR"
tar -C "$RECONI_VAR_DIR" -xzf "$src/media.tar.gz"
install -D -m 600 "$src/signing/key.pem" "$SIGNING_KEY_FILE"
install -D -m 644 "$src/signing/cert.pem" "$SIGNING_CERT_FILE"

"$PYTHON" manage.py migrate --check --noinput
"$PYTHON" manage.py shell -c "
from audit.selectors import audit_chain_broken_at
from audit.models import AuditEvent
broken = audit_chain_broken_at()
if broken is not None:
    raise SystemExit(f'The audit chain is broken at event {broken}.')
print(f'Audit chain intact: {AuditEvent.objects.count()} events.')
"
echo "Restore complete: $DATABASE_URL"
