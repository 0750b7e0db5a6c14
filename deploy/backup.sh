#!/usr/bin/env bash
# Back up the portal: the database (pg_dump, custom format), the media files and the signing
# key and certificate. Usage:
#
#   deploy/backup.sh DIRECTORY
#
# Environment (as for the portal itself):
#   DATABASE_URL                         a role that can read every table (the owner role)
#   RECONI_VAR_DIR                       holds media/ (shared storage in production)
#   SIGNING_KEY_FILE, SIGNING_CERT_FILE  the portal's signing key and certificate
#
# Writes DIRECTORY/reconi-<UTC time>/ with database.dump, media.tar.gz, signing/ and
# SHA256SUMS, and prints its path. The signing key is a secret: store backups encrypted.
set -euo pipefail

dest="${1:?usage: deploy/backup.sh DIRECTORY}"
: "${DATABASE_URL:?DATABASE_URL must be set}"
: "${RECONI_VAR_DIR:?RECONI_VAR_DIR must be set}"
: "${SIGNING_KEY_FILE:?SIGNING_KEY_FILE must be set}"
: "${SIGNING_CERT_FILE:?SIGNING_CERT_FILE must be set}"

out="$dest/reconi-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out/signing"
umask 077

# One consistent snapshot of every table (pg_dump runs in one repeatable-read transaction).
pg_dump --format=custom --compress=6 --file="$out/database.dump" "$DATABASE_URL"

if [ -d "$RECONI_VAR_DIR/media" ]; then
  tar -C "$RECONI_VAR_DIR" -czf "$out/media.tar.gz" media
else
  tar -czf "$out/media.tar.gz" -T /dev/null
fi

cp "$SIGNING_KEY_FILE" "$out/signing/key.pem"
cp "$SIGNING_CERT_FILE" "$out/signing/cert.pem"

(cd "$out" && sha256sum database.dump media.tar.gz signing/key.pem signing/cert.pem > SHA256SUMS)
echo "$out"
