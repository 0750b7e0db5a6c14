from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
# seed_demo refuses to run unless this is True (never in production).
SEED_DEMO_ALLOWED = True
