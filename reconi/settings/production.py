"""Production: every secret comes from the environment and is checked."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .env import env_bool, env_str

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY or SECRET_KEY.startswith("dev-only"):
    raise ImproperlyConfigured("SECRET_KEY must be set in production.")
if not ALLOWED_HOSTS or ALLOWED_HOSTS == ["127.0.0.1", "localhost", "testserver"]:  # noqa: F405
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production.")

if not MFA_ENCRYPTION_KEYS or any(key.startswith("dev-only") for key in MFA_ENCRYPTION_KEYS):  # noqa: F405
    raise ImproperlyConfigured("MFA_ENCRYPTION_KEYS must be set in production.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Probes and the Prometheus scraper talk to the pods directly, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
SIGNING_DEV_CERT_AUTOCREATE = False

# Static files: collected into STATIC_ROOT when the image is built (collectstatic) and served by
# every web instance itself (WhiteNoise), gzip- and brotli-compressed.
MIDDLEWARE = [*MIDDLEWARE]  # noqa: F405
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "whitenoise.middleware.WhiteNoiseMiddleware"
)
STORAGES = {
    **STORAGES,  # noqa: F405 - the "forms" storage of the generated PDFs stays
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
