"""Settings shared by every environment. Environment values come from env.py."""

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from .env import BASE_DIR, VAR_DIR, cache_config, database_config, email_config, env_bool, env_list, env_str

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me-reconi-portal-0123456789")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "guardian",
    "crispy_forms",
    "crispy_bootstrap5",
    "audit",
    "users",
    "organizations",
    "authorizations",
    "requests_app",
    "notifications",
    "portal",
]

MIDDLEWARE = [
    "reconi.logs.RequestIdMiddleware",
    "reconi.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "reconi.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "reconi.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "users.language.PreferredLanguageMiddleware",
]

ROOT_URLCONF = "reconi.urls"
WSGI_APPLICATION = "reconi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "reconi.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": database_config()}
# Shared by every process (login rate limits, TOTP replay protection): see env.cache_config.
CACHES = {"default": cache_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# allauth: email is the login; no usernames.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
# Changing the email address, the password or the second factor asks to log in again
# (with the second factor, where one is set up) when the last login is older than this.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_ADAPTER = "users.adapters.AccountAdapter"
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Reconi] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Reconi"
MFA_TOTP_DIGITS = 6
MFA_TOTP_PERIOD = 30
MFA_ADAPTER = "users.adapters.MFAAdapter"
# Authenticator secrets and recovery-code seeds are stored encrypted (reconi/crypto.py).
# The first key encrypts, all decrypt (rotation). Production refuses the development key.
DEV_MFA_ENCRYPTION_KEY = "dev-only-mfa-encryption-key-reconi"
MFA_ENCRYPTION_KEYS = env_list("MFA_ENCRYPTION_KEYS", [DEV_MFA_ENCRYPTION_KEY])

# Add-users checks (a person on the form or a CSV upload) per manager: count/period (s, m, h, d).
PEOPLE_CHECK_RATE = env_str("PEOPLE_CHECK_RATE", "30/h")

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Nederlands")), ("en", _("English"))]
# The portal's catalogue first; then formal Dutch for allauth's texts (above allauth's own).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "overrides"]
FORMAT_MODULE_PATH = ["reconi.formats"]
USE_I18N = True
TIME_ZONE = "Europe/Amsterdam"
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env_str("STATIC_ROOT", "") or VAR_DIR / "staticfiles"
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Generated and signed forms (PDF, personal data): never served by URL. Any storage
    # backend by replacing this entry (e.g. an S3 bucket without public access).
    "forms": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT / "forms"), "base_url": None},
    },
}

# Sessions: rotate at login (Django does), idle timeout and absolute lifetime.
SESSION_COOKIE_AGE = 60 * 30  # idle timeout: renewed by activity (reconi.middleware.SessionLifetimeMiddleware)
SESSION_RENEW_SECONDS = 60  # ... at most this often, not on every request
SESSION_ABSOLUTE_LIFETIME = 60 * 60 * 10
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Our own static files only; no inline script or style anywhere (no 'unsafe-inline').
# Bootstrap draws some icons as data: images; the TOTP QR code is a data: image too.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Email
globals().update(email_config())
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Reconi <noreply@reconi.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")

# Celery: without a broker, tasks run in-process, eagerly.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A frozen (SIGSTOP) or vanished Redis must not hold a web request: every socket operation
# on the broker gives up after a second (without these, a publish waits forever). Requests
# publish once, without retries (notifications.services.broker_publish); the outbox sweep
# delivers whatever could not be published. Workers consume asynchronously, unaffected.
BROKER_TIMEOUT = 1.0
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": BROKER_TIMEOUT,
    "socket_connect_timeout": BROKER_TIMEOUT,
    # Opening a channel tries once instead of sleeping 2 s between tries (workers reconnect
    # in their own loop, broker_connection_max_retries).
    "max_retries": 0,
}
# Run with `celery -A reconi beat` (make beat); crontab times are in CELERY_TIMEZONE.
# REMINDERS_EVERY_SECONDS replaces the daily 07:00 run by a short interval (the production smoke test).
REMINDERS_EVERY_SECONDS = float(env_str("REMINDERS_EVERY_SECONDS", "0") or 0)
CELERY_BEAT_SCHEDULE = {
    "renewal-reminders": {
        "task": "notifications.send_renewal_reminders",
        "schedule": REMINDERS_EVERY_SECONDS or crontab(hour=7, minute=0),
    },
    "audit-anchor": {
        "task": "audit.anchor_chain_head",
        "schedule": crontab(hour=0, minute=5),
    },
    "outbox-flush": {
        "task": "notifications.flush_outbox",
        "schedule": 60.0,
        # A sweep that waited longer than its interval is superseded by the next one.
        "options": {"expires": 55},
    },
}

# Beat runs each scheduled job once even when two beat processes run (a rolling deploy, a
# second replica by mistake): only the holder of a lock in Redis sends; the other waits and
# takes over within BEAT_LOCK_TTL seconds when the holder dies (reconi/beat.py).
CELERY_BEAT_SCHEDULER = "reconi.beat:SingletonScheduler"
BEAT_LOCK_URL = env_str("BEAT_LOCK_URL", "") or CELERY_BROKER_URL
BEAT_LOCK_TTL = int(env_str("BEAT_LOCK_TTL", "60"))

# /metrics (Prometheus): from these addresses or networks, or with "Authorization: Bearer <METRICS_TOKEN>".
# Neither set: nobody.
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", [])
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# PDF signing: a self-signed development certificate under var/ unless configured.
SIGNING_KEY_FILE = env_str("SIGNING_KEY_FILE", str(VAR_DIR / "signing" / "key.pem"))
SIGNING_CERT_FILE = env_str("SIGNING_CERT_FILE", str(VAR_DIR / "signing" / "cert.pem"))
# The intermediate certificates (PEM, any number) embedded in every signature; empty for a self-signed one.
SIGNING_CHAIN_FILE = env_str("SIGNING_CHAIN_FILE", "")
SIGNING_DEV_CERT_AUTOCREATE = True

# The audit chain's head, signed, is written here every day (and mailed, when an address is set).
AUDIT_ANCHOR_DIR = env_str("AUDIT_ANCHOR_DIR", str(VAR_DIR / "audit-anchors"))
AUDIT_ANCHOR_EMAIL = env_str("AUDIT_ANCHOR_EMAIL", "")

# One JSON line per event on stderr, with the request id (reconi/logs.py). Unhandled
# exceptions come from "django.request" with their traceback, also with DEBUG off.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "reconi.logs.RequestIdFilter"}},
    "formatters": {"json": {"()": "reconi.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "json",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own handlers print nothing with DEBUG off; these records go to the root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "reconi.security": {"level": "WARNING"},
    },
}
