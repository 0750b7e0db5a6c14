"""Kept so that older imports work: the request workflow now lives in ``requests_app.services``.

users/manage_views.py still imports from here; new code imports from ``requests_app.services``.
"""

from .services import *  # noqa: F403
from .services import __all__  # noqa: F401
