from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_not_required
@require_GET
def healthz(request):
    status = {"database": "ok", "broker": "in-process"}
    code = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - report, do not crash the probe
        status["database"] = f"error: {exc.__class__.__name__}"
        code = 503
    from django.conf import settings

    if settings.CELERY_BROKER_URL:
        try:
            from kombu import Connection

            with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            status["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001
            status["broker"] = f"error: {exc.__class__.__name__}"
            code = 503
    return JsonResponse(status, status=code)


@login_not_required
@require_GET
def metrics(request):
    """Prometheus scrape target; only for the configured addresses or the bearer token (see reconi.metrics)."""
    from reconi import metrics as reconi_metrics

    if not reconi_metrics.access_allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(reconi_metrics.render(), content_type=reconi_metrics.CONTENT_TYPE)


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
