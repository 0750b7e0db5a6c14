from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run in-process even when CELERY_BROKER_URL is set; the broker tests switch this off.
CELERY_TASK_ALWAYS_EAGER = True
ACCOUNT_RATE_LIMITS = False
SEED_DEMO_ALLOWED = True
# The test runner empties tables with TRUNCATE between transactional tests; the audit
# table refuses that everywhere else (audit migration 0005).
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c reconi.allow_audit_truncate=on"  # noqa: F405

# Generated forms go to a directory of this test run, not to var/.
import tempfile  # noqa: E402

STORAGES = {
    **STORAGES,  # noqa: F405
    "forms": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tempfile.mkdtemp(prefix="reconi-forms-"), "base_url": None},
    },
}
