from django.core.management.base import BaseCommand

from audit.chain import audit_anchor_create


class Command(BaseCommand):
    help = "Sign the head of the audit hash chain and write it outside the database (AUDIT_ANCHOR_DIR)."

    def handle(self, *args, **options):
        path, document = audit_anchor_create()
        self.stdout.write(f"{path} (event {document['last_id']}, {document['count']} events)")
