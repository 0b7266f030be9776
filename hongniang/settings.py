"""Hongniang settings: everything that differs between machines comes from the environment.

HONGNIANG_ENV=production turns on the production profile: DEBUG off, secure cookies, HSTS, and the
app refuses to start without SECRET_KEY and FIELD_ENCRYPTION_KEY from the environment.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = os.environ.get("HONGNIANG_ENV", "development") == "production"
DEBUG = env_bool("DEBUG", default=not PRODUCTION)

_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnop"  # noqa: S105
_DEV_FIELD_KEY = "dev-only-field-encryption-key-change-me"
SECRET_KEY = os.environ.get("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
# Key for encrypting ID numbers and mobiles, and for their keyed look-up hashes (PIPL).
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "" if PRODUCTION else _DEV_FIELD_KEY)
if PRODUCTION and (not SECRET_KEY or not FIELD_ENCRYPTION_KEY):
    raise ImproperlyConfigured("SECRET_KEY and FIELD_ENCRYPTION_KEY must be set in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
CSRF_FAILURE_VIEW = "hongniang.workbench.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_htmx",
    "template_partials",
    "simple_history",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "hongniang.workbench",
    "hongniang.staff",
    "hongniang.siteconfig",
    "hongniang.members",
    "hongniang.sales",
    "hongniang.matching",
    "hongniang.messaging",
    "hongniang.jobs",
    "hongniang.frontdesk",
    "hongniang.portal",
    "hongniang.family",
    "hongniang.finance",
    "hongniang.home",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "hongniang.workbench.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hongniang.staff.visibility.VisibleStaffMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes last: it must see the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:
    # Static files straight from the app server; nginx may serve them instead (deploy/).
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "hongniang.urls"
WSGI_APPLICATION = "hongniang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "hongniang" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hongniang.siteconfig.context_processors.site",
                "hongniang.workbench.context_processors.navigation",
                "hongniang.messaging.context_processors.notices",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60
    )
}
# Covering indexes (`include`, e.g. members' `member_owners`) serve PostgreSQL; SQLite builds
# them on their key columns alone, which is all it needs (its rows hang off the key).
SILENCED_SYSTEM_CHECKS = ["models.W040"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout keep one web process and the task worker from blocking each other.
    # Reads go through a memory map and a 64 MB page cache per connection: with SQLite's default
    # 2 MB cache, a list at 100,000 members re-read its index and table pages from the OS.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA cache_size=-65536; PRAGMA mmap_size=1073741824;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "staff.Staff"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "home:index"
LOGOUT_REDIRECT_URL = "staff:login"

# Login lock-out: 5 failures for one account from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "hongniang.staff.views.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "hongniang" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "hongniang" / "static", ("vendor", BASE_DIR / "static_vendor")]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Members' files (photos) stay outside MEDIA_ROOT, which is served to anyone: the members app
# streams each to those who may see the member (hongniang/members/storage.py).
MEMBER_FILES_ROOT = Path(os.environ.get("MEMBER_FILES_ROOT", BASE_DIR / "member-files"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploaded images: checked by content (Pillow), not by name, and capped in size.
IMAGE_UPLOAD_MAX_BYTES = int(os.environ.get("IMAGE_UPLOAD_MAX_BYTES", str(5 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

CACHES = {
    "default": {
        "BACKEND": os.environ.get("CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache"),
        "LOCATION": os.environ.get("CACHE_LOCATION", "hongniang"),
    }
}

SESSION_COOKIE_AGE = 60 * 60 * 12
# The member centre's flash messages never show on workbench pages, nor the other way round
# (staff logged in as a member share one session).
MESSAGE_STORAGE = "hongniang.portal.messages.SeparateMessageStorage"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
# Every asset is served by the product itself, so the policy can be strict: no inline script or
# style, no eval. Behaviour lives in static/js, data for scripts in json_script blocks (not run).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

HONGNIANG_VERSION = "0.1.0"
SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False
SIMPLE_HISTORY_REVERT_DISABLED = True
# The history tables are indexed on (history_date, history_id) instead (workbench/history.py).
SIMPLE_HISTORY_DATE_INDEX = False

# Background jobs (Django Tasks). The embedded default keeps the queue in the database and is
# worked by `manage.py run_worker`; past one machine, TASKS_BACKEND=django_tasks_rq.RQBackend
# with REDIS_URL puts the queue in Redis (`pip install django-tasks-rq`, `manage.py rqworker`).
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
TASKS = {"default": {"BACKEND": TASKS_BACKEND, "QUEUES": ["default"]}}
if TASKS_BACKEND.startswith("django_tasks_rq"):
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {"default": {"URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}}

# Email to members: printed on the console unless an SMTP server is configured.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "465"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL and EMAIL_PORT == 587)
    EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@localhost")

# Text messages to members (hongniang/messaging/sms.py): logged, not sent, unless a provider is
# configured. SMS_BACKEND=hongniang.messaging.sms.AliyunSmsBackend with the SMS_ALIYUN_* values.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "hongniang.messaging.sms.LoggingSmsBackend")
SMS_OPTIONS = {
    key.removeprefix("SMS_ALIYUN_").lower(): value
    for key, value in os.environ.items()
    if key.startswith("SMS_ALIYUN_")
}
# Bulk messages: at most this many recipients per job.
MESSAGING_BULK_MAX = int(os.environ.get("MESSAGING_BULK_MAX", "5000"))

# The public site's address as visitors reach it (used in QR codes and posters); empty: the
# address the staff member's browser used.
PUBLIC_SITE_URL = os.environ.get("PUBLIC_SITE_URL", "")

# The matching engine: the worker saves it as a snapshot (numpy arrays + JSON, never pickle) in
# this directory; web processes load the newest one and apply the engine change log on top.
ENGINE_SNAPSHOT_DIR = Path(os.environ.get("ENGINE_SNAPSHOT_DIR", BASE_DIR / "var" / "engine"))
ENGINE_SNAPSHOT_KEEP = 2  # snapshots kept; log rows older than all of them are pruned
ENGINE_LOG_KEEP_SECONDS = 24 * 3600  # …once older than this
ENGINE_FOLD_EVERY = 1000  # log rows past the snapshot after which a process asks for a fold
ENGINE_SNAPSHOT_RELOAD_SECONDS = 300  # how often a web process looks for a newer snapshot
ENGINE_LOG_APPLY_LIMIT = 5000  # a longer backlog: prefer a newer snapshot, ask for a fold
# Changed members whose profiles one request reads again (a backlog is spread over requests;
# the others' status is applied at once, see matching/index.py `_hold_back`).
ENGINE_REQUEST_MEMBER_SYNC = 500
# A web process loads the snapshot and jieba's dictionary when it starts (wsgi.py), off the
# request path.
ENGINE_WARM_AT_START = env_bool("ENGINE_WARM_AT_START", default=True)
# Only tests build the engine inside a request; a web process waits for the worker's snapshot.
ENGINE_BUILD_IN_REQUEST = False

# Chinese fonts for contract PDFs (finance/pdf.py), the first that exists is used. Debian:
# apt-get install fonts-wqy-microhei (`make run` installs it).
CONTRACT_PDF_FONTS = [
    p
    for p in os.environ.get("CONTRACT_PDF_FONT", "").split(":")
    + [
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    ]
    if p
]
