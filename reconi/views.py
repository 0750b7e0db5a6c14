from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reconi import health


@login_not_required
@require_GET
def healthz(request):
    """200 when the database and the broker answer; 503 within about two seconds when not."""
    status = {"database": health.database_status(), "broker": health.broker_status()}
    code = 200 if all(value in ("ok", "in-process") for value in status.values()) else 503
    if status["database"] == "ok":
        status.update(health.details())
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
