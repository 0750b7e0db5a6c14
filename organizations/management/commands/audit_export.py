"""The audit events of one organisation (by KvK number) for a third party; the rows come from ``audit.chain``."""

import csv
import datetime
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from audit.chain import export_rows
from organizations.models import Organization

CSV_FIELDS = [
    "id",
    "included",
    "created_at",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "data",
    "ip_address",
    "prev_hash",
    "hash",
    "hashed",
]


class Command(BaseCommand):
    help = (
        "Export an organisation's audit events of a period with their hashes. Events of others in between are "
        "stubs (id and hashes only), so a third party can check every hash and every link (README, 'Audit trail')."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="KvK number")
        parser.add_argument("--from", dest="date_from", required=True, type=datetime.date.fromisoformat)
        parser.add_argument("--to", dest="date_to", required=True, type=datetime.date.fromisoformat)
        parser.add_argument("--format", choices=["csv", "json"], default="json")

    def handle(self, *args, **options):
        organization = Organization.objects.filter(kvk_number=options["organization"]).first()
        if organization is None:
            raise CommandError(f"No organisation with KvK number {options['organization']}.")
        if options["date_to"] < options["date_from"]:
            raise CommandError("--to is before --from.")
        rows = export_rows(organization=organization, date_from=options["date_from"], date_to=options["date_to"])
        out = self.stdout
        if options["format"] == "json":
            out.write(json.dumps(list(rows), indent=2, ensure_ascii=False))
            return
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    **{name: row.get(name, "") for name in CSV_FIELDS},
                    "included": "1" if row["included"] else "0",
                    "data": json.dumps(row["data"], sort_keys=True, ensure_ascii=False) if row["included"] else "",
                    "ip_address": row.get("ip_address") or "",
                }
            )
        sys.stdout.flush()
