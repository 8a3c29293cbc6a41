"""Production: secrets must come from the environment; cookies are secure."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool

if not os.environ.get("SECRET_KEY"):
    raise ImproperlyConfigured("SECRET_KEY must be set in production.")
DEBUG = False
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# The built-in test payment provider moves no money: online payment is off unless a real provider is named.
RELANCE_PORTAL_PROVIDER = os.environ.get("RELANCE_PORTAL_PROVIDER", "")
if RELANCE_PORTAL_PROVIDER == "test" and not env_bool("RELANCE_PORTAL_ALLOW_TEST_PROVIDER", False):
    raise ImproperlyConfigured(
        "RELANCE_PORTAL_PROVIDER=test in production: the test provider accepts payments without money. "
        "Name a real provider, leave it empty, or set RELANCE_PORTAL_ALLOW_TEST_PROVIDER=1 for a staging site."
    )
