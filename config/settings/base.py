"""Relance settings: everything lives here and is read from the environment.

local.py, test.py and production.py only override. See README, "Configuration".
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("RELANCE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("SECRET_KEY", "relance-insecure-development-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "relance.core",
    "relance.orgs",
    "relance.ledger",
    "relance.collections",
    "relance.ingest",
    "relance.channels",
    "relance.cashapp",
    "relance.analytics",
    "relance.portal",
    "relance.alerts",
    "relance.risk",
    "relance.ml",
    "relance.web",
    "relance.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "relance.web.context.permissions",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# DATABASE_URL selects the database (postgres://user@host:port/name); unset means the
# embedded SQLite file var/relance.sqlite3, in WAL mode with a busy timeout so that the
# web app, the worker and the scheduler share it without "database is locked".
SQLITE_PATH = Path(os.environ.get("RELANCE_SQLITE_PATH", VAR_DIR / "relance.sqlite3"))
SQLITE_OPTIONS = {
    "timeout": 30,
    "transaction_mode": "IMMEDIATE",
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA busy_timeout=30000;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA temp_store=MEMORY;"
        "PRAGMA cache_size=-65536;"
    ),
}


def database_from_env() -> dict:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")))
        if config["ENGINE"] == "django.db.backends.sqlite3":
            config["OPTIONS"] = dict(SQLITE_OPTIONS)
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(SQLITE_PATH),
        "OPTIONS": dict(SQLITE_OPTIONS),
    }


DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "orgs.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "relance" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from it after `relance collectstatic`
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Background work ----------------------------------------------------------
# Database backend by default; set TASKS_BACKEND=rq (and REDIS_URL) to scale out on RQ.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- E-mail -------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "relance@localhost")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")

# --- API ------------------------------------------------------------------------
NINJA_PAGINATION_CLASS = "ninja.pagination.LimitOffsetPagination"
NINJA_PAGINATION_PER_PAGE = 100
NINJA_PAGINATION_MAX_LIMIT = 1000

# --- Relance --------------------------------------------------------------------
# Daily scheduler: local time at which the daily jobs run (HH:MM, in TIME_ZONE).
RELANCE_DAILY_AT = os.environ.get("RELANCE_DAILY_AT", "06:00")
# A fixed "today" for demos and tests (YYYY-MM-DD); unset means the real date.
RELANCE_TODAY = os.environ.get("RELANCE_TODAY", "")
# Absolute base of links sent to customers (portal links in reminders), without a trailing slash.
RELANCE_BASE_URL = os.environ.get("RELANCE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Customer portal: days a link stays valid; payment provider ("test" is the built-in one, see docs/portal.md).
RELANCE_PORTAL_LINK_DAYS = int(os.environ.get("RELANCE_PORTAL_LINK_DAYS", "60"))
RELANCE_PORTAL_PROVIDER = os.environ.get("RELANCE_PORTAL_PROVIDER", "test")
# Key that signs portal link tokens (default: SECRET_KEY); changing it invalidates every link.
RELANCE_PORTAL_SECRET = os.environ.get("RELANCE_PORTAL_SECRET", "")
# HMAC key of the built-in test payment provider's webhooks (default: derived from SECRET_KEY).
RELANCE_PORTAL_WEBHOOK_SECRET = os.environ.get("RELANCE_PORTAL_WEBHOOK_SECRET", "")
# Largest dispute attachment accepted from the portal, in bytes.
RELANCE_PORTAL_UPLOAD_MAX_BYTES = int(os.environ.get("RELANCE_PORTAL_UPLOAD_MAX_BYTES", str(5 * 1024 * 1024)))
# Payment-date prediction (relance.ml, docs/ml.md): where model files go, what "late" means, when to retrain.
RELANCE_ML_DIR = Path(os.environ.get("RELANCE_ML_DIR", VAR_DIR / "models"))
RELANCE_ML_LATE_DAYS = int(os.environ.get("RELANCE_ML_LATE_DAYS", "30"))
RELANCE_ML_RETRAIN_DAYS = int(os.environ.get("RELANCE_ML_RETRAIN_DAYS", "7"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"relance": {"level": os.environ.get("RELANCE_LOG_LEVEL", "INFO"), "propagate": True}},
}
# Collections (docs/collections.md): the mailbox customers reply to (Reply-To of reminders, read by
# `relance mail poll`), its IMAP account, and the SMS gateway class (dotted path; none ships with Relance).
RELANCE_COLLECTIONS_MAILBOX = os.environ.get("RELANCE_COLLECTIONS_MAILBOX", "")
RELANCE_IMAP_HOST = os.environ.get("RELANCE_IMAP_HOST", "")
RELANCE_IMAP_PORT = int(os.environ.get("RELANCE_IMAP_PORT", "993"))
RELANCE_IMAP_USER = os.environ.get("RELANCE_IMAP_USER", "")
RELANCE_IMAP_PASSWORD = os.environ.get("RELANCE_IMAP_PASSWORD", "")
RELANCE_IMAP_SSL = env_bool("RELANCE_IMAP_SSL", True)
RELANCE_SMS_GATEWAY = os.environ.get("RELANCE_SMS_GATEWAY", "")
