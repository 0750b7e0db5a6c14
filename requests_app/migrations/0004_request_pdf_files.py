"""Generated forms move from binary columns to the ``forms`` file storage.

Each PDF is written as a file named by its SHA-256; the row keeps the name and the
hash. Going back reads the files into the columns again.
"""

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import migrations, models

import requests_app.models


def _name(request, digest: str) -> str:
    return f"requests/{request.created_at:%Y}/{request.number or 'draft'}-{digest}.pdf"


def _write(storage, request, content: bytes) -> tuple[str, str]:
    digest = hashlib.sha256(content).hexdigest()
    name = _name(request, digest)
    if not storage.exists(name):
        name = storage.save(name, ContentFile(content))
    return name, digest


def bytes_to_files(apps, schema_editor):
    Request = apps.get_model("requests_app", "Request")
    storage = storages["forms"]
    rows = Request.objects.filter(models.Q(pdf_bytes__isnull=False) | models.Q(signed_pdf_bytes__isnull=False))
    for request in rows.iterator(chunk_size=100):
        if request.pdf_bytes is not None:
            request.pdf, request.pdf_sha256 = _write(storage, request, bytes(request.pdf_bytes))
        if request.signed_pdf_bytes is not None:
            request.signed_pdf, request.signed_pdf_sha256 = _write(storage, request, bytes(request.signed_pdf_bytes))
        request.save(update_fields=["pdf", "pdf_sha256", "signed_pdf", "signed_pdf_sha256"])


def files_to_bytes(apps, schema_editor):
    Request = apps.get_model("requests_app", "Request")
    storage = storages["forms"]
    for request in Request.objects.exclude(pdf="", signed_pdf="").iterator(chunk_size=100):
        if request.pdf:
            with storage.open(request.pdf.name, "rb") as handle:
                request.pdf_bytes = handle.read()
        if request.signed_pdf:
            with storage.open(request.signed_pdf.name, "rb") as handle:
                request.signed_pdf_bytes = handle.read()
        request.save(update_fields=["pdf_bytes", "signed_pdf_bytes"])


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0003_means_lifecycle"),
    ]

    operations = [
        migrations.RenameField(model_name="request", old_name="pdf", new_name="pdf_bytes"),
        migrations.RenameField(model_name="request", old_name="signed_pdf", new_name="signed_pdf_bytes"),
        migrations.AddField(
            model_name="request",
            name="pdf",
            field=models.FileField(
                blank=True,
                editable=False,
                max_length=200,
                storage=requests_app.models.forms_storage,
                upload_to=requests_app.models.form_file_name,
                verbose_name="form (PDF)",
            ),
        ),
        migrations.AddField(
            model_name="request",
            name="pdf_sha256",
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name="form SHA-256"),
        ),
        migrations.AddField(
            model_name="request",
            name="signed_pdf",
            field=models.FileField(
                blank=True,
                editable=False,
                max_length=200,
                storage=requests_app.models.forms_storage,
                upload_to=requests_app.models.form_file_name,
                verbose_name="signed form (PDF)",
            ),
        ),
        migrations.RunPython(bytes_to_files, files_to_bytes, elidable=False),
    ]
