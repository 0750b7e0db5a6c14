import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from audit.chain import audit_verify


class Command(BaseCommand):
    help = (
        "Verify the audit hash chain and hold it against the latest signed anchor. "
        "Exit status 0: intact; 1: tampered (the first bad event is named); 2: an anchor file's signature is invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            action="append",
            type=Path,
            help="An anchor file to check against (repeatable); default: every file in AUDIT_ANCHOR_DIR.",
        )

    def handle(self, *args, **options):
        result = audit_verify(anchor_paths=options["anchor"])
        for path in result.bad_anchor_files:
            self.stderr.write(f"Anchor {path}: the signature is not the portal's.")
        if not result.ok:
            self.stderr.write(f"TAMPERED: first bad event {result.first_bad_id}: {result.reason}.")
            sys.exit(1)
        anchored = (
            f"; matches the signed anchor of {result.anchor['anchored_at']} (event {result.anchor['last_id']})"
            if result.anchor
            else "; no signed anchor found (run audit_anchor)"
        )
        self.stdout.write(f"OK: {result.events} events, chain intact{anchored}.")
        if result.bad_anchor_files:
            sys.exit(2)
