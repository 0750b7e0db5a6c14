"""Stored payloads take the typed schema of their kind (``requests_app.payloads``).

The one shape that changed: an appointment without a date of birth stored "" and
now stores null. Every row is then checked against its schema, so a payload the
code cannot read stops the migration with its form number instead of failing later.
"""

from django.core.exceptions import ValidationError
from django.db import migrations


def normalise(apps, schema_editor):
    from requests_app.models import PAYLOAD_SCHEMAS

    Request = apps.get_model("requests_app", "Request")
    unreadable = []
    for request in Request.objects.iterator(chunk_size=500):
        payload = dict(request.payload or {})
        manager = payload.get("manager")
        if request.kind == "appoint_manager" and isinstance(manager, dict) and manager.get("date_of_birth") == "":
            payload["manager"] = {**manager, "date_of_birth": None}
        try:
            data = PAYLOAD_SCHEMAS[request.kind].parse(payload)
        except ValidationError as exc:
            unreadable.append(f"{request.number or request.pk}: {' '.join(exc.messages)}")
            continue
        if data.to_json() != request.payload:
            Request.objects.filter(pk=request.pk).update(payload=data.to_json())
    if unreadable:
        raise RuntimeError("Payloads that fit no schema:\n" + "\n".join(unreadable))


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0005_request_pdf_bytes_removed"),
    ]

    operations = [migrations.RunPython(normalise, migrations.RunPython.noop)]
