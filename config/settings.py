"""The one settings module. Everything that differs between machines comes from the environment.

Embedded default (no DATABASE_URL / REDIS_URL): SQLite under var/ and Celery tasks run in-process.
"""

import datetime as dt
import hashlib
import re
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_date, env_decimal, env_int, env_list, env_rate, env_sessions, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    # Required wherever the platform is deployed (on PostgreSQL). DEBUG and the embedded default (no
    # DATABASE_URL: SQLite on one machine) use a development key, so that a fresh checkout's
    # management commands (makemigrations --check, say) run without any configuration.
    if not DEBUG and env_str("DATABASE_URL"):
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set and DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-debug"
# A key copied from an example is no secret: refuse to start on one (with DEBUG a development key is fine).
PLACEHOLDER_SECRET_KEYS = ("change-me", "changeme", "change_me", "replace-me", "replace_me", "your-secret", "placeholder",
                           "secret-key-here")
if not DEBUG and any(word in SECRET_KEY.lower() for word in PLACEHOLDER_SECRET_KEYS):
    raise ImproperlyConfigured("SECRET_KEY is a placeholder: set 50 or more random characters (see .env.example)")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # zh_Hans: numbers grouped by three, as Chinese financial tables are
USE_I18N = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # single-use backup codes
    "axes",
    "core",
    "accounts",
    "registry",
    "allocation",
    "trading",
    "compliance",
    "offsets",
    "reports",
    "surveillance",
    "carryover",
    "enforcement",
    "demo",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    # After the two above, so that its refusals carry the security headers too.
    "core.middleware.ApiRequestSizeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the language is chosen (its refusal is in the caller's language), before anything reads the URL.
    "core.middleware.NulInUrlMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "web.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.RequestContextMiddleware",
    # Last, so that it sees the outcome of the login views (records failures, answers a lockout).
    "axes.middleware.AxesMiddleware",
    # Innermost, so that its process_exception sees a view's database errors first (core.contention).
    "core.contention.DatabaseTroubleMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "accounts.views.navigation",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
EMBEDDED = not DATABASE_URL
if EMBEDDED:
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "var" / "db.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
else:
    try:
        DATABASES = {"default": dj_database_url.parse(
            DATABASE_URL,
            # Seconds a process keeps its connection between requests; 0 closes it after each one (the
            # live streams' ASGI server: a stream must hold no connection while it waits).
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", default=True),
        )}
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {error}") from None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Behind a pooler in transaction mode (such as PgBouncer's; the shipped topology has none: README,
# Topology) a connection's session state does not survive its transaction: no server-side cursors,
# no prepared statements.
DATABASE_POOLING = env_str("DATABASE_POOLING", "")
if DATABASE_POOLING not in ("", "transaction"):
    raise ImproperlyConfigured("DATABASE_POOLING must be empty (a direct connection or session pooling) or 'transaction'")
if DATABASE_POOLING == "transaction":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# Hot one-row statements (order entry, audit events) are prepared once per database connection
# (core.db.Prepared); never under transaction pooling, which does not keep them.
PREPARED_STATEMENTS = env_bool("PREPARED_STATEMENTS", default=not DATABASE_POOLING)
if PREPARED_STATEMENTS and DATABASE_POOLING == "transaction":
    raise ImproperlyConfigured("PREPARED_STATEMENTS cannot be on with DATABASE_POOLING=transaction")

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out username or address before any check
    "accounts.backends.AccessBackend",  # ModelBackend, with permissions remembered between requests (accounts.access)
]

# Security (README: Security). Behind TRUSTED_PROXY_COUNT reverse proxies the client's address is the
# entry that many places from the right of X-Forwarded-For, and the scheme comes from X-Forwarded-Proto.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)  # sent on HTTPS responses only
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Secure cookies unless DEBUG (development over plain http); browsers treat http://localhost as secure.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

# Two-factor authentication (django-otp, TOTP). Privileged roles must pass it (accounts.two_factor).
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "National Carbon Registry")
# Nobody reads another person's TOTP secret or QR code in the admin (it would let them pass as that person).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# An API token of a privileged user works only if created from a verified session, and for this long.
API_TOKEN_OTP_TTL = env_int("API_TOKEN_OTP_TTL", 8 * 3600, minimum=60)  # seconds

# Brute-force lockout (django-axes): by username and, separately, by client address.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_USE_ATTEMPT_EXPIRATION = True  # failures count within a sliding window of AXES_COOLOFF_TIME
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"
AXES_VERBOSE = False

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (emission report attachments): served only through views that check access.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["core.filters.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
# API hygiene. Order entry (new orders and cancels) is limited per user, counted in Redis (in-process
# without REDIS_URL); if Redis is unreachable the limit is not applied (logged), so an outage of the
# broker never stops trading. Bodies larger than API_MAX_BODY_SIZE bytes are refused with 413.
API_ORDER_RATE = env_rate("API_ORDER_RATE", "1200/min")
API_MAX_BODY_SIZE = env_int("API_MAX_BODY_SIZE", 64 * 1024, minimum=1024)
# JSON bodies nested deeper than this are refused (400 parse_error); the API's own bodies nest 2 deep.
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 32, minimum=4)
# How long an Idempotency-Key's stored answer is kept (core.idempotency): a retry later is a new request.
IDEMPOTENCY_KEY_RETENTION_HOURS = env_int("IDEMPOTENCY_KEY_RETENTION_HOURS", 24, minimum=1)

SPECTACULAR_SETTINGS = {
    "TITLE": "National carbon allowance registry and exchange API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from this site (no CDN), so the Content-Security-Policy can stay 'self'.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per shared choice set (check --deploy warns otherwise).
    "ENUM_NAME_OVERRIDES": {"SideEnum": "trading.models.Side", "BucketEnum": "registry.models.Bucket",
                            "AuctionStatusEnum": "trading.models.Auction.Status",
                            "AuctionBidStatusEnum": "trading.models.AuctionBid.Status"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums", "core.schema.error_responses", "core.schema.creation_links",
    ],
}

# Celery. Tasks are short (seconds): the hard time limit stays below the Redis visibility timeout,
# so a task whose worker was killed (acks late, unacknowledged) is redelivered once the timeout
# has passed since it was delivered AND a worker looks for such messages: kombu's Redis transport
# looks when a worker starts and then every 100 s (its 10-s timer acts on every 10th tick). So
# 60-160 s after delivery (measured: 92 s with a second worker running), at once if a worker starts
# after the 60 s. The 10-s settlement sweep settles the trades meanwhile; the re-run finds them done.
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"  # (a host named: kombu warns without one)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 50, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 5 if CELERY_TASK_TIME_LIMIT > 10 else None
BROKER_VISIBILITY_TIMEOUT = env_int("BROKER_VISIBILITY_TIMEOUT", 60, minimum=1)
if BROKER_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("BROKER_VISIBILITY_TIMEOUT must be longer than CELERY_TASK_TIME_LIMIT")
# Socket timeouts: a hung broker fails a publish in seconds instead of holding a request (or the
# matcher) forever; what could not be queued is found by the periodic sweeps.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": BROKER_VISIBILITY_TIMEOUT, "socket_timeout": 5,
                                   "socket_connect_timeout": 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TIMEZONE = TIME_ZONE
# The ledger seal chain (registry.seal): new transfers are sealed into hash-chained blocks by a beat job.
SEAL_INTERVAL_SECONDS = env_int("SEAL_INTERVAL_SECONDS", 300, minimum=1)
SEAL_BLOCK_SIZE = env_int("SEAL_BLOCK_SIZE", 1000, minimum=1)  # transfers per block at most
# How long the sealer waits for transactions that may still commit transfer ids below the newest one.
SEAL_HORIZON_WAIT_SECONDS = env_int("SEAL_HORIZON_WAIT_SECONDS", 10, minimum=0)
# After each seal the head is published outside the database (registry.seal_publication): a signed
# daily file in this folder, for a deployment to ship elsewhere (another host, object storage, print).
SEAL_PUBLISH_DIR = Path(env_str("SEAL_PUBLISH_DIR", str(BASE_DIR / "var" / "seal-heads")))
# The Ed25519 key that signs those files: 64 hex characters (a 32-byte seed). Unset, it is derived from
# SECRET_KEY, so that rotating SECRET_KEY changes it: a deployment sets its own and publishes the public key.
SEAL_SIGNING_KEY = env_str("SEAL_SIGNING_KEY")
if SEAL_SIGNING_KEY and not re.fullmatch(r"[0-9a-fA-F]{64}", SEAL_SIGNING_KEY):
    raise ImproperlyConfigured("SEAL_SIGNING_KEY must be 64 hexadecimal characters (a 32-byte Ed25519 seed)")
if not SEAL_SIGNING_KEY:
    SEAL_SIGNING_KEY = hashlib.sha256(b"carbon-registry seal signing key\n" + SECRET_KEY.encode()).hexdigest()
# The embedded default has no beat process: the ASGI server runs this schedule in a thread of its
# own (core.scheduler), so end of day releases pending allowances without a manual command.
EMBEDDED_SCHEDULER = env_bool("EMBEDDED_SCHEDULER", default=EMBEDDED and CELERY_TASK_ALWAYS_EAGER)
CELERY_BEAT_SCHEDULE = {
    "ledger-verify-hourly": {"task": "registry.tasks.ledger_verify_task", "schedule": 3600.0},
    "ledger-seal": {"task": "registry.tasks.ledger_seal_task", "schedule": float(SEAL_INTERVAL_SECONDS)},
    "ledger-seal-verify-nightly": {"task": "registry.tasks.ledger_seal_verify_task", "schedule": crontab(hour=2, minute=0)},
    "idempotency-purge-hourly": {"task": "core.tasks.idempotency_purge_task", "schedule": 3600.0},
    "import-uploads-purge-hourly": {"task": "core.tasks.import_uploads_purge_task", "schedule": 3600.0},
    "report-exports-purge-hourly": {"task": "reports.tasks.export_files_purge_task", "schedule": 3600.0},
    "settlement-sweep": {"task": "trading.tasks.settlement_sweep_task", "schedule": 10.0},
    "compliance-deadline": {"task": "compliance.tasks.compliance_deadline_sweep_task", "schedule": crontab(hour=0, minute=30)},
    "end-of-day": {
        "task": "trading.tasks.end_of_day_task",
        "schedule": crontab(hour=15, minute=5, day_of_week="mon-fri"),
    },
    "surveillance-nightly": {
        "task": "surveillance.tasks.surveillance_alerts_task",
        "schedule": crontab(hour=18, minute=0, day_of_week="mon-fri"),
    },
}

# Trading (RULEBOOK.md: Trading). Prices in fen.
MARKET_HOURS = env_str("MARKET_HOURS", "sessions")
if MARKET_HOURS not in ("sessions", "always"):
    raise ImproperlyConfigured(f"MARKET_HOURS must be 'sessions' or 'always', not {MARKET_HOURS!r}")
TRADING_SESSIONS = env_sessions("TRADING_SESSIONS", "09:30-11:30,13:00-15:00")
TRADING_FEE_RATE = env_decimal("TRADING_FEE_RATE", "0.0005")  # on traded value, each side (assumed default)
TRADING_POSITION_LIMIT = env_int("TRADING_POSITION_LIMIT", 100_000_000, minimum=1)  # tonnes per vintage
# Block agreement trading (RULEBOOK "Block trades"): at least this many tonnes per trade, within +-this
# % of the previous close, in these sessions (market time, trading days; MARKET_HOURS=always opens them).
BLOCK_MIN_QUANTITY = env_int("BLOCK_MIN_QUANTITY", 100_000, minimum=1)
BLOCK_MAX_QUANTITY = env_int("BLOCK_MAX_QUANTITY", 100_000_000, minimum=1)  # a sanity bound (assumed)
BLOCK_BAND_PERCENT = env_int("BLOCK_BAND_PERCENT", 30, minimum=1)
BLOCK_SESSIONS = env_sessions("BLOCK_SESSIONS", "13:00-15:00")
if BLOCK_MAX_QUANTITY < BLOCK_MIN_QUANTITY:
    raise ImproperlyConfigured("BLOCK_MAX_QUANTITY must be at least BLOCK_MIN_QUANTITY")
# Market surveillance (RULEBOOK "Block trades, auctions and surveillance"; all thresholds assumed defaults).
SURVEILLANCE_GROUP_STP = env_bool("SURVEILLANCE_GROUP_STP", default=True)  # self-trade prevention across a group
SURVEILLANCE_LARGE_HOLDER_PERCENT = env_int("SURVEILLANCE_LARGE_HOLDER_PERCENT", 5, minimum=1)
SURVEILLANCE_ORDER_TRADE_RATIO = env_int("SURVEILLANCE_ORDER_TRADE_RATIO", 20, minimum=1)
SURVEILLANCE_FAST_CANCEL_SECONDS = env_int("SURVEILLANCE_FAST_CANCEL_SECONDS", 5, minimum=1)
SURVEILLANCE_CLOSE_WINDOW_MINUTES = env_int("SURVEILLANCE_CLOSE_WINDOW_MINUTES", 10, minimum=1)
SURVEILLANCE_CLOSE_MOVE_PERCENT = env_decimal("SURVEILLANCE_CLOSE_MOVE_PERCENT", "2")
# One-way bidding (auctions, RULEBOOK "Block trades, auctions"): the default maximum share one bidder may
# win (assumed 30 %), a sanity bound on an auction's quantity, and how often the close job looks for
# auctions whose bidding window has ended.
AUCTION_MAX_SHARE_PERCENT = env_int("AUCTION_MAX_SHARE_PERCENT", 30, minimum=1)
if AUCTION_MAX_SHARE_PERCENT > 100:
    raise ImproperlyConfigured("AUCTION_MAX_SHARE_PERCENT must be 1 to 100")
AUCTION_MAX_QUANTITY = env_int("AUCTION_MAX_QUANTITY", 1_000_000_000, minimum=1)
AUCTION_CLOSE_SECONDS = env_int("AUCTION_CLOSE_SECONDS", 30, minimum=1)
CELERY_BEAT_SCHEDULE["auctions-close"] = {"task": "trading.tasks.auctions_close_task", "schedule": float(AUCTION_CLOSE_SECONDS)}
# In-process matching right after each order commits (the embedded default); in production a
# `run_matcher` process does it and web requests only notify it.
MATCHER_INLINE = env_bool("MATCHER_INLINE", default=EMBEDDED)
MATCHER_BATCH_SIZE = env_int("MATCHER_BATCH_SIZE", 500, minimum=1)
MATCHER_LINGER_MS = env_int("MATCHER_LINGER_MS", 5, minimum=0)
SETTLEMENT_BATCH_SIZE = env_int("SETTLEMENT_BATCH_SIZE", 500, minimum=1)
# run_matcher queues one settlement task for all the trades of this many seconds (not one per batch).
SETTLEMENT_QUEUE_SECONDS = float(env_decimal("SETTLEMENT_QUEUE_SECONDS", "0.1"))

# The day's statistics of the market overview and the trading page (volume, turnover, trades, high,
# low: an aggregate over the day's trades) are computed at most once per this many milliseconds per
# process (trading.selectors); every open page re-reads them on each live update. 0: every time.
MARKET_STATISTICS_MS = env_int("MARKET_STATISTICS_MS", 1000, minimum=0)

# Live updates of the trading and market pages (core/live.py): Server-Sent Events served under ASGI.
LIVE_UPDATES = env_bool("LIVE_UPDATES", default=True)
# A stream ends after this many seconds and the browser reconnects (authorized afresh); 0: never.
LIVE_STREAM_SECONDS = env_int("LIVE_STREAM_SECONDS", 300, minimum=0)
LIVE_HEARTBEAT_SECONDS = env_int("LIVE_HEARTBEAT_SECONDS", 15, minimum=1)  # a comment line keeps proxies from closing it
LIVE_RETRY_MS = env_int("LIVE_RETRY_MS", 2000, minimum=100)  # the browser's reconnect delay
# How long a stream's signed URL works; then the page asks for a new one, authorizing its user again.
LIVE_TOKEN_SECONDS = env_int("LIVE_TOKEN_SECONDS", 900, minimum=10)
# Per channel, a stream hears at most one announcement per this many milliseconds (core.live.Fanout).
LIVE_COALESCE_MS = env_int("LIVE_COALESCE_MS", 100, minimum=0)
# An open page re-reads its fragments at most once per this many milliseconds (static/js/live.js): an
# announcement carries no data, so each one would bring a request from every open page.
LIVE_REFRESH_MS = env_int("LIVE_REFRESH_MS", 1000, minimum=0)

# Compliance (RULEBOOK.md: Compliance cycle).
COMPLIANCE_OFFSET_SHARE = env_decimal("COMPLIANCE_OFFSET_SHARE", "0.05")  # CCER cover at most 5 % of the obligation
# Offsets (RULEBOOK.md: Offsets): CCER of projects registered before the cut-off count for compliance
# only in periods whose surrender deadline is on or before the last eligible date.
OFFSETS_LEGACY_REGISTRATION_CUTOFF = env_date("OFFSETS_LEGACY_REGISTRATION_CUTOFF", "2017-03-14")
OFFSETS_LEGACY_LAST_DEADLINE = env_date("OFFSETS_LEGACY_LAST_DEADLINE", "2024-12-31")
OFFSETS_CERTIFICATE_PREFIX = env_str("OFFSETS_CERTIFICATE_PREFIX", "VC")  # certificate numbers: VC-2026-000001
COMPLIANCE_SHORTFALL_CAP_SHARE = env_decimal("COMPLIANCE_SHORTFALL_CAP_SHARE", "0.20")  # obligation <= allocation + 20 %
COMPLIANCE_FINE_MULTIPLE = (env_int("COMPLIANCE_FINE_MULTIPLE_LOW", 5, minimum=0), env_int("COMPLIANCE_FINE_MULTIPLE_HIGH", 10, minimum=0))
COMPLIANCE_FINE_FIXED = (env_int("COMPLIANCE_FINE_FIXED_LOW", 20_000_00, minimum=0), env_int("COMPLIANCE_FINE_FIXED_HIGH", 30_000_00, minimum=0))  # fen
COMPLIANCE_OBJECTION_WORKING_DAYS = env_int("COMPLIANCE_OBJECTION_WORKING_DAYS", 7, minimum=0)  # to object, from verification
COMPLIANCE_DECISION_WORKING_DAYS = env_int("COMPLIANCE_DECISION_WORKING_DAYS", 10, minimum=0)  # to decide, from the objection
COMPLIANCE_REPORT_MAX_BYTES = env_int("COMPLIANCE_REPORT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)  # an attachment's size
# API paths that take a file upload, with their own body limit (the file plus the other fields).
API_UPLOAD_LIMITS = {"/api/v1/emission-reports/": COMPLIANCE_REPORT_MAX_BYTES + API_MAX_BODY_SIZE}
# Global warming potentials of aluminium's perfluorocarbons (tCO2e per t of gas; assumed, IPCC AR5).
COMPLIANCE_GWP = {"cf4": env_int("COMPLIANCE_GWP_CF4", 6630, minimum=1), "c2f6": env_int("COMPLIANCE_GWP_C2F6", 11100, minimum=1)}
COMPLIANCE_DEADLINE_CHUNK = env_int("COMPLIANCE_DEADLINE_CHUNK", 1000, minimum=1)  # units the deadline job writes per transaction
# The carry-over (banking) cap of a new plan window (RULEBOOK.md, "2024-2026 rules"): a company carries
# earlier vintages beyond the window only up to BASE + MULTIPLIER x its net sales over the window. Each
# window keeps its own copy, which regulators edit (carryover.models.CarryOverWindow).
CARRY_OVER_BASE_TONNES = env_int("CARRY_OVER_BASE_TONNES", 10_000, minimum=0)
CARRY_OVER_SALES_MULTIPLIER = env_decimal("CARRY_OVER_SALES_MULTIPLIER", "1.5")
# Enforcement (Interim Regulations 2024, Art. 22; amounts in fen). The non-surrender fine's range is the
# compliance result's fine basis (COMPLIANCE_FINE_MULTIPLE or COMPLIANCE_FINE_FIXED).
ENFORCEMENT_FRAUD_FINE_MULTIPLE = (env_int("ENFORCEMENT_FRAUD_FINE_MULTIPLE_LOW", 5, minimum=1),
                                   env_int("ENFORCEMENT_FRAUD_FINE_MULTIPLE_HIGH", 10, minimum=1))  # x the gains
ENFORCEMENT_FRAUD_GAINS_THRESHOLD = env_int("ENFORCEMENT_FRAUD_GAINS_THRESHOLD", 500_000_00, minimum=0)  # below: the fixed range
ENFORCEMENT_FRAUD_FINE_FIXED = (env_int("ENFORCEMENT_FRAUD_FINE_FIXED_LOW", 500_000_00, minimum=1),
                                env_int("ENFORCEMENT_FRAUD_FINE_FIXED_HIGH", 2_000_000_00, minimum=1))
ENFORCEMENT_INDIVIDUAL_FINE = (env_int("ENFORCEMENT_INDIVIDUAL_FINE_LOW", 50_000_00, minimum=1),
                               env_int("ENFORCEMENT_INDIVIDUAL_FINE_HIGH", 200_000_00, minimum=1))
ENFORCEMENT_ALLOCATION_CUT_PERCENT = (env_int("ENFORCEMENT_ALLOCATION_CUT_PERCENT_LOW", 50, minimum=1),
                                      env_int("ENFORCEMENT_ALLOCATION_CUT_PERCENT_HIGH", 100, minimum=1))

# Imports of allocation plans and verified emissions (core.imports): at most this many rows (China has
# about 3,700 key emitting units) and bytes per file; reading stops at the first row past the cap.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 20_000, minimum=1)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
# An admin import's uploaded file waits under var/uploads between preview and confirmation; one left
# there longer than this (an abandoned preview) is deleted by the hourly clean-up job.
IMPORT_UPLOAD_RETENTION_HOURS = env_int("IMPORT_UPLOAD_RETENTION_HOURS", 24, minimum=1)
IMPORT_UPLOAD_DIR = BASE_DIR / "var" / "uploads"

# Reports (auditors' exports). A PDF of more rows than this is refused with a pointer to the XLSX.
REPORTS_PDF_MAX_ROWS = env_int("REPORTS_PDF_MAX_ROWS", 20_000, minimum=1)
# Above these row counts an export is a job (reports.export_jobs) run by a Celery worker, with its
# progress on a page and a download link when ready: the PDF engine lays out about 100 rows a second.
REPORTS_PDF_JOB_ROWS = env_int("REPORTS_PDF_JOB_ROWS", 300, minimum=0)
REPORTS_XLSX_JOB_ROWS = env_int("REPORTS_XLSX_JOB_ROWS", 5_000, minimum=0)
# A job's PDF is laid out this many rows at a time and the parts joined (bounded memory; the engine
# keeps every box of a document until it is written).
REPORTS_PDF_CHUNK_ROWS = env_int("REPORTS_PDF_CHUNK_ROWS", 300, minimum=1)
# ... by this many processes side by side (the engine is pure Python: a process uses one core). One by
# default: on the 2 shared cores measured (bench/export_bench.py) two were no faster, and a second
# core taken from the web workers for half a minute would be felt.
REPORTS_PDF_PROCESSES = env_int("REPORTS_PDF_PROCESSES", 1, minimum=1)
# An export job has its own time limit (a national PDF takes longer than the other tasks' seconds);
# a redelivered message finds the job running (its progress keeps it fresh) and does nothing.
REPORTS_EXPORT_TIME_LIMIT = env_int("REPORTS_EXPORT_TIME_LIMIT", 300, minimum=10)
# A job's file waits under var/exports for this long, then the hourly clean-up deletes it.
REPORTS_EXPORT_RETENTION_HOURS = env_int("REPORTS_EXPORT_RETENTION_HOURS", 24, minimum=1)
REPORTS_EXPORT_DIR = Path(env_str("REPORTS_EXPORT_DIR", str(BASE_DIR / "var" / "exports")))

# One handler, on the root logger: every record is written once, by it. Django's own default
# configuration (applied before this one) gives the "django" logger a console handler of its own that
# writes when DEBUG is on, and the record then propagates to the root's handler too: every request
# line ("Not Found: ...") printed twice. Naming the logger here takes that handler off (and its
# mail_admins handler: no ADMINS are configured). Servers keep their own loggers, which do not
# propagate (uvicorn, gunicorn); a Celery worker replaces the root's handler with its own.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        # django-axes logs every login at INFO (lockouts, at WARNING, are what an operator needs); WeasyPrint
        # logs every layout step of every PDF at INFO.
        "axes": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"},
    },
}
if EMBEDDED:
    # In-process tasks (the settlement sweep every few seconds, each trade's settlement) would each log
    # "Task ... succeeded" at INFO on the demo's terminal; a failed task still logs at ERROR.
    LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}
