"""The portal's URLs plus one bare view, for bench/manage_pages.py throughput comparison.

The bare view does what every page of a logged-in manager does before its own work —
load the session and the user (the middleware) — and nothing else: the ceiling a page's
throughput is measured against.
"""

from django.http import HttpResponse
from django.urls import path

from reconi.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401


def bare(request):
    return HttpResponse(f"user {request.user.pk}", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *urlpatterns]
