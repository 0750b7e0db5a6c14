import time

from django.conf import settings
from django.contrib.auth import logout

from audit.services import current_ip

_SESSION_STARTED = "_session_started_at"


class SessionLifetimeMiddleware:
    """An absolute session lifetime on top of the idle timeout; records "from where"."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(request.META.get("REMOTE_ADDR"))
        try:
            if request.user.is_authenticated:
                started = request.session.get(_SESSION_STARTED)
                now = int(time.time())
                if started is None:
                    request.session[_SESSION_STARTED] = now
                elif now - started > settings.SESSION_ABSOLUTE_LIFETIME:
                    logout(request)
            return self.get_response(request)
        finally:
            current_ip.reset(token)
