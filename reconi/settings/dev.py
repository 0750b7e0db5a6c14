from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
# seed_demo refuses to run unless this is True (never in production).
SEED_DEMO_ALLOWED = True
# Security keys on http://127.0.0.1 / http://localhost (WebAuthn wants https elsewhere). Never in production.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
