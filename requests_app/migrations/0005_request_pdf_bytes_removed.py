"""The binary columns go, once their bytes are files (0004); the row keeps name and hash together."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0004_request_pdf_files"),
    ]

    operations = [
        migrations.RemoveField(model_name="request", name="pdf_bytes"),
        migrations.RemoveField(model_name="request", name="signed_pdf_bytes"),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("pdf", ""), ("pdf_sha256", "")),
                    models.Q(models.Q(("pdf", ""), _negated=True), ("pdf_sha256__regex", "^[0-9a-f]{64}$")),
                    _connector="OR",
                ),
                name="request_pdf_has_sha256",
            ),
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("signed_pdf", ""), ("signed_pdf_sha256", "")),
                    models.Q(("signed_pdf", ""), _negated=True),
                    _connector="OR",
                ),
                name="request_signed_pdf_has_file",
            ),
        ),
    ]
