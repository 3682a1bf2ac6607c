"""Settings read from the environment; defaults give the embedded set-up (SQLite, eager tasks)."""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("SMI_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# The development fallback key is only accepted with DEBUG on; production must set its own.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or (
    "dev-only-insecure-key-set-DJANGO_SECRET_KEY" if DEBUG else ""
)
if not SECRET_KEY:
    # One line a person acts on: manage.py and config/gunicorn.py print it without a traceback.
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off: give the hub a secret key of "
        "its own in the environment, e.g. export DJANGO_SECRET_KEY=\"$(python -c 'import "
        "secrets; print(secrets.token_urlsafe(50))')\" (the same value for every process of "
        "one installation; DJANGO_DEBUG=1 is for development only)"
    )
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "simple_history",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files for /api/docs/, served by us (no CDN)
    "smi_core",
    "smi_edi",
    "reporting_assistant",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files served by the app itself (gunicorn alone, no web server in front needed).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Requests counted by view and status for /metrics.
    "smi_ops.metrics.RequestMetricsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "smi_core.site.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'smi_hub.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web app read while a task writes; a busy timeout instead of "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# `manage.py collectstatic` writes here; WhiteNoise serves it (compressed, with hashed names
# cached for a year) once DEBUG is off.
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing one
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "smi_core.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "smi_core.api_pagination.Pagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SMI Hub API",
    "DESCRIPTION": "Supplier Managed Inventory hub: X12 interchanges, positions, planning.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,  # the schema endpoint is not part of the API it describes
    # /api/docs/: Swagger UI from drf-spectacular-sidecar's static files, not a CDN
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # config/urls.py's <id:...>: an id of at most 18 digits
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_999}
    },
}

# Celery: with no broker configured every task runs in-process (eager), so the embedded
# default needs no server. With CELERY_BROKER_URL set, real workers consume the queue.
_BROKER = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not _BROKER
# Eager tasks still take a producer from Celery's pool: give it the in-memory transport
# (no server, and no "no hostname" warning), never a default AMQP address.
CELERY_BROKER_URL = _BROKER or "memory://localhost/"
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "") or _BROKER or None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# A task whose worker died unacknowledged goes back to the queue after this many seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("SMI_BROKER_VISIBILITY_TIMEOUT", "3600"))
}
# Queues per kind of work (config/celery.py's route_task names them: ingest, outbound,
# planning, assistant; anything else goes to "celery"). `make worker` consumes them all;
# a worker started with -Q ingest takes only ingestion. SMI_CELERY_ROUTING=0 sends every
# task to the default queue.
SMI_CELERY_ROUTING = env_bool("SMI_CELERY_ROUTING", True)
CELERY_TASK_ROUTES = ("config.celery.route_task",)
CELERY_BEAT_SCHEDULE: dict = {
    # The nightly plan over every item-location under an agreement in force.
    "plan-all-nightly": {
        "task": "smi_core.plan_all",
        "schedule": crontab(hour=2, minute=30),
    },
    # Interchanges left short of a final state by a crash, idle for 5 minutes, resume.
    "requeue-waiting-interchanges": {
        "task": "smi_edi.requeue_waiting_interchanges",
        "schedule": 120.0,
    },
    "outbound-acknowledgments-overdue": {
        "task": "smi_edi.outbound_overdue_check",
        "schedule": 900.0,
    },
    # Retries of what we send live in the database: these sweeps send again whatever is
    # due (backoff 1 min doubling to 4 h), whether the first try ran in a worker or in-process.
    "outbound-redeliver": {
        "task": "smi_edi.outbound_redeliver_queued",
        "schedule": 120.0,
    },
    "webhooks-redeliver": {
        "task": "smi_edi.webhooks_redeliver",
        "schedule": 120.0,
    },
    # PostgreSQL: the 852 activity partitions of this month and the next three (docs/production.md).
    "activity-partitions-ahead": {
        "task": "smi_core.activity_partitions_ensure",
        "schedule": crontab(hour=1, minute=15),
    },
}

# X12 defaults for what this hub sends (partners override them).
SMI_X12_MAX_UPLOAD_BYTES = int(os.environ.get("SMI_X12_MAX_UPLOAD_BYTES", str(100 * 1024 * 1024)))

# SMI_LOG_JSON=1: one JSON object per line, with the interchange, document and task ids
# bound by smi_ops.logs (contextvars) or passed as logging's extra=.
SMI_LOG_JSON = env_bool("SMI_LOG_JSON", False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "smi_ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if SMI_LOG_JSON else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("SMI_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Celery's per-task lines ("Task ... succeeded") at WARNING: one per task is noise.
        "celery": {"level": os.environ.get("SMI_CELERY_LOG_LEVEL", "WARNING")},
    },
}

# Production (DEBUG off): HTTPS only, behind a TLS-terminating proxy. Each can be turned off
# by its variable (e.g. serving plain HTTP on a loopback for a test). `manage.py check
# --deploy` is clean with these defaults (tests/smi_ops/test_deploy_check.py).
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", not DEBUG)
# Load balancer probes and the metrics scraper talk plain HTTP to the app directly.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
# The proxy in front terminates TLS and says so in X-Forwarded-Proto (set it only there:
# a client could send the header itself if the app were reachable directly).
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Health (/health/live, /health/ready): ready answers 503 when a check fails, including an
# unprocessed interchange or an undelivered outbound document older than these seconds
# (0: not checked).
SMI_READY_MAX_INTERCHANGE_AGE = int(os.environ.get("SMI_READY_MAX_INTERCHANGE_AGE", "900"))
SMI_READY_MAX_OUTBOUND_AGE = int(os.environ.get("SMI_READY_MAX_OUTBOUND_AGE", "14400"))
SMI_HEALTH_TIMEOUT = float(os.environ.get("SMI_HEALTH_TIMEOUT", "2"))
# /metrics: allowed with "Authorization: Bearer <SMI_METRICS_TOKEN>" when a token is set,
# otherwise only from the addresses in SMI_METRICS_ALLOWED_IPS (loopback by default).
SMI_METRICS_TOKEN = os.environ.get("SMI_METRICS_TOKEN", "")
SMI_METRICS_ALLOWED_IPS = env_list("SMI_METRICS_ALLOWED_IPS", "127.0.0.1,::1")
# A queued outbound document older than this many seconds counts as overdue in /metrics.
SMI_DELIVERY_OVERDUE_AFTER = int(os.environ.get("SMI_DELIVERY_OVERDUE_AFTER", "3600"))
SMI_RAW_STORE_DIR = Path(os.environ.get("SMI_RAW_STORE_DIR", VAR_DIR / "raw"))
# Where `activity_partitions archive` writes archived months of 852 activity (.tsv.gz + manifest).
SMI_ACTIVITY_ARCHIVE_DIR = Path(
    os.environ.get("SMI_ACTIVITY_ARCHIVE_DIR", VAR_DIR / "archive" / "activity")
)
# Imports (agreements_import) read the files an import names (text_file, terms_csv) only
# inside this folder; empty: the folder of the file being imported.
SMI_IMPORT_ROOT = os.environ.get("SMI_IMPORT_ROOT", "")
# Outbound documents for partners with no folder or endpoint of their own go to
# SMI_OUTBOX_DIR/<partner code>/.
SMI_OUTBOX_DIR = Path(os.environ.get("SMI_OUTBOX_DIR", VAR_DIR / "outbox"))
# GS1 company prefix for SSCC-18 pack labels (6-12 digits) and the extension digit.
SMI_GS1_COMPANY_PREFIX = os.environ.get("SMI_GS1_COMPANY_PREFIX", "0614141")
SMI_SSCC_EXTENSION = int(os.environ.get("SMI_SSCC_EXTENSION", "0"))
# Supplier-generated PO numbers: this prefix and the order's id.
SMI_PO_PREFIX = os.environ.get("SMI_PO_PREFIX", "SMI")
# Finance: the currency figures are reported in, and the annual carrying-cost rate.
SMI_REPORTING_CURRENCY = os.environ.get("SMI_REPORTING_CURRENCY", "USD")
SMI_CARRYING_RATE = os.environ.get("SMI_CARRYING_RATE", "0.20")
# Finance at a date: a partner is stale past its cadence plus this grace (empty: 3 days
# weekly, 1 daily); a rate older than this many days is used with a warning.
SMI_STALE_GRACE_DAYS = os.environ.get("SMI_STALE_GRACE_DAYS", "")
SMI_FX_MAX_AGE_DAYS = int(os.environ.get("SMI_FX_MAX_AGE_DAYS", "7"))
# The reporting assistant: the Chroma server (empty: an embedded directory, fine for one
# process only), and an optional LLM that phrases answers from the computed facts.
CHROMA_URL = os.environ.get("CHROMA_URL", "")
SMI_CHROMA_DIR = Path(os.environ.get("SMI_CHROMA_DIR", VAR_DIR / "chroma"))
SMI_LLM_PROVIDER = os.environ.get("SMI_LLM_PROVIDER", "")  # "", "openai" or "ollama"
SMI_LLM_MODEL = os.environ.get("SMI_LLM_MODEL", "")
SMI_LLM_BASE_URL = os.environ.get("SMI_LLM_BASE_URL", "")
SMI_LLM_API_KEY = os.environ.get("SMI_LLM_API_KEY", "")
# HTTP delivery (documents and webhooks): seconds to wait for the other side.
SMI_HTTP_TIMEOUT = float(os.environ.get("SMI_HTTP_TIMEOUT", "20"))
