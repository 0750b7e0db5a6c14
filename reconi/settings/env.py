"""The one place where settings read the environment.

Every variable has an embedded default so that a fresh clone runs with nothing
but Python: SQLite under ``var/``, tasks in-process, emails as files.
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("RECONI_VAR_DIR", BASE_DIR / "var"))
CACHE_TABLE = "reconi_cache"


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def database_config() -> dict:
    import dj_database_url

    url = os.environ.get("DATABASE_URL")
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "reconi.sqlite3"),
            "OPTIONS": {"timeout": 20},
        }
    return dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)


def cache_config() -> dict:
    """One cache shared by every process: rate limits and TOTP replay protection hold across workers.

    CACHE_URL=redis://host:6379/1 uses Redis (production); unset, the database holds the
    cache (table ``reconi_cache``, made by ``manage.py createcachetable``), which every
    process of a zero-setup run shares too. A per-process memory cache is never the default.
    """
    url = os.environ.get("CACHE_URL")
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "reconi"),
            # A frozen Redis must not hang a login: fail fast instead.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    if url:
        raise ValueError(f"CACHE_URL must be a redis:// URL, not {url!r}")
    return {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": CACHE_TABLE,
    }


def email_config() -> dict:
    """EMAIL_URL like smtp://user:pass@host:587/?tls=1; unset writes .eml files."""
    url = os.environ.get("EMAIL_URL")
    if not url:
        return {
            "EMAIL_BACKEND": "reconi.mail.EmlFileBackend",
            "EMAIL_FILE_PATH": str(VAR_DIR / "mail"),
        }
    parsed = urlparse(url)
    if parsed.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parsed.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    query = dict(part.split("=", 1) for part in parsed.query.split("&") if "=" in part)
    return {
        "EMAIL_BACKEND": "reconi.mail.SMTPBackend",
        "EMAIL_HOST": parsed.hostname or "localhost",
        "EMAIL_PORT": parsed.port or 25,
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_TLS": query.get("tls") == "1",
        "EMAIL_USE_SSL": query.get("ssl") == "1",
        "EMAIL_TIMEOUT": 10,
    }
