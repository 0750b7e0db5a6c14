"""Production settings with bench/_bare_urls.py: what gunicorn serves in bench/manage_pages.py."""

from reconi.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench._bare_urls"
