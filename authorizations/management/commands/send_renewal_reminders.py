"""One run of the renewal reminder job: the same code as the daily beat task."""

from django.core.management.base import BaseCommand

from authorizations.reminders.services import renewal_reminders_send


class Command(BaseCommand):
    help = (
        "Send the renewal reminders that are due: two months, one month and one week before a means or "
        "authorization expires, each once. --dry-run lists them and sends nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="List what would be sent; change nothing.")

    def handle(self, *args, dry_run: bool = False, **options):
        run = renewal_reminders_send(dry_run=dry_run)
        if dry_run:
            for planned in run.plan:
                items = ", ".join(
                    f"{item.target} {item.obj.pk} until {item.obj.valid_until} ({item.stage})" for item in planned.items
                )
                self.stdout.write(f"{planned.kind} → {planned.recipient.email}: {items}")
            self.stdout.write(f"Dry run: {run.due} reminders due, {len(run.plan)} emails would be sent.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{run.claimed} reminders due, {run.queued} emails queued"
                + (f", {run.failed} failed (see the outbox in the admin)" if run.failed else "")
                + "."
            )
        )
