"""Test settings: fast hashing, in-memory mail, immediate tasks, isolated media."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="relance-test-media-"))
RELANCE_ML_DIR = Path(tempfile.mkdtemp(prefix="relance-test-models-"))
LANGUAGE_CODE = "en"
ALLOWED_HOSTS = ["*"]
