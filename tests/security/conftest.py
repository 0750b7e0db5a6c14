"""The signing fixtures of tests/requests_app, for the tests of what support may see."""

from tests.requests_app.conftest import carla, eva, portal_certificate_files, signing_dir  # noqa: F401
