import time

from django.conf import settings
from django.contrib.auth import logout

from audit.services import current_ip

_SESSION_STARTED = "_session_started_at"
_SESSION_RENEWED = "_session_renewed_at"


class SessionLifetimeMiddleware:
    """The idle timeout and an absolute session lifetime; records "from where".

    The idle timeout is the session's expiry (``SESSION_COOKIE_AGE``), pushed forward by
    saving the session. Saving it on every request would cost three statements a page,
    so it is renewed at most every ``SESSION_RENEW_SECONDS``: idle means idle for the
    timeout give or take that much.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(request.META.get("REMOTE_ADDR"))
        try:
            if request.user.is_authenticated:
                session = request.session
                now = int(time.time())
                started = session.get(_SESSION_STARTED)
                if started is None:
                    session[_SESSION_STARTED] = now
                elif now - started > settings.SESSION_ABSOLUTE_LIFETIME:
                    logout(request)
                    return self.get_response(request)
                if now - session.get(_SESSION_RENEWED, 0) >= settings.SESSION_RENEW_SECONDS:
                    session[_SESSION_RENEWED] = now  # a change: the session is saved with a new expiry
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class ContentSecurityPolicyMiddleware:
    """Every HTML page gets the Content-Security-Policy of ``settings.CONTENT_SECURITY_POLICY``.

    Scripts, styles, fonts and images come from our own static files only: no inline
    script or style, no CDN. PDFs and downloads are left alone (the browser's PDF viewer
    is a plugin that ``object-src 'none'`` would block). Django's own debug pages style
    themselves inline, so they go without the header when DEBUG is on.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        if settings.DEBUG and response.status_code >= 400:
            return response
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
