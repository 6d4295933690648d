"""Configuration classes; every setting can be overridden from the environment."""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - production refuses it


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _list(name: str) -> list[str]:
    """A comma-separated setting (empty entries dropped)."""
    return [v.strip() for v in os.environ.get(name, "").split(",") if v.strip()]


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{BASE_DIR / 'instance' / 'registry.db'}"
    if url.startswith("postgres://"):  # Heroku-style URLs
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # SQLite only: writers take turns through a file lock (<database>-writers) instead of
    # SQLite's sleeping busy handler; for many concurrent writers (registry/database.py).
    SQLITE_WRITE_GATE = _bool("SQLITE_WRITE_GATE", False)

    # Public base URL, used in e-mails and every absolute URL (links must work outside a
    # request, and never from a Host header).
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    # Host names the app answers to (Flask's TRUSTED_HOSTS; comma-separated). Empty: any
    # host in development; the host of BASE_URL in production (registry/__init__.py,
    # `_check_production_safety`).
    TRUSTED_HOSTS: list[str] | None = _list("TRUSTED_HOSTS") or None

    # Internationalisation
    BABEL_DEFAULT_LOCALE = "nl"
    BABEL_DEFAULT_TIMEZONE = "Europe/Amsterdam"
    LANGUAGES = ("nl", "en")

    # Forms
    WTF_CSRF_TIME_LIMIT = 6 * 3600  # a school contact may take a while to fill in the form
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    MAX_FORM_PARTS = 500  # the submission form with 20 obstacles has about 200 fields
    MAX_OBSTACLES = 20
    MIN_FILL_SECONDS = _int("MIN_FILL_SECONDS", 3)
    # Largest list (CSV or XLSX) a moderator may import (registry.imports); the upload page
    # accepts a request this big instead of MAX_CONTENT_LENGTH
    IMPORT_MAX_BYTES = _int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
    # Uploaded lists wait here until they are imported or discarded (one machine, like
    # DOCUMENT_CACHE_DIR: the thread that checks a file runs where it was uploaded)
    IMPORT_DIR = os.environ.get("IMPORT_DIR", str(BASE_DIR / "instance" / "imports"))

    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    # Staff sessions end after this long without a request, and this long after the login
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 30)
    SESSION_MAX_HOURS = _int("SESSION_MAX_HOURS", 12)
    REMEMBER_COOKIE_NAME = "remember_token"  # Flask-Login's default, named for the page cache
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)

    # Mail
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")  # console | smtp
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Register gepersonaliseerd leren <noreply@example.org>"
    )
    # Send queued mail once the transaction that queued it commits (after the response in a
    # request, at the end of a CLI command); off: only `flask send-mail` sends (registry/mail).
    MAIL_SEND_IMMEDIATELY = _bool("MAIL_SEND_IMMEDIATELY", True)
    # The serving app itself sends due mail (retries, leftovers) every this many seconds in a
    # background thread (registry/mail/worker.py); 0: off. On under `make run` (development),
    # off in production, where `flask send-mail` runs from a timer.
    MAIL_BACKGROUND_SECONDS = float(os.environ.get("MAIL_BACKGROUND_SECONDS", "0"))
    # Retries: after a failed attempt wait base * 2**(attempts-1) seconds, capped at the max;
    # give up ("failed", retryable on /beheer/mail) after MAIL_MAX_ATTEMPTS attempts.
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 8)
    MAIL_RETRY_BASE_SECONDS = _int("MAIL_RETRY_BASE_SECONDS", 60)
    MAIL_RETRY_MAX_SECONDS = _int("MAIL_RETRY_MAX_SECONDS", 6 * 3600)
    # A claimed message another sender may take over after this long (its sender died).
    MAIL_CLAIM_SECONDS = _int("MAIL_CLAIM_SECONDS", 600)
    # At most this many messages per send-mail run (and per round of sending after a commit).
    MAIL_BATCH_SIZE = _int("MAIL_BATCH_SIZE", 100)

    # Geocoding
    GEOCODER_ONLINE = _bool("GEOCODER_ONLINE", False)
    GEOCODER_PROVIDER = os.environ.get("GEOCODER_PROVIDER", "nominatim")
    GEOCODER_DOMAIN = os.environ.get("GEOCODER_DOMAIN", "nominatim.openstreetmap.org")
    GEOCODER_SCHEME = os.environ.get("GEOCODER_SCHEME", "https")
    GEOCODER_USER_AGENT = os.environ.get(
        "GEOCODER_USER_AGENT", "registry-gepersonaliseerd-leren/0.1"
    )
    GEOCODER_TIMEOUT = float(os.environ.get("GEOCODER_TIMEOUT", "5"))
    # At least this many seconds between two requests to the online geocoder (its usage
    # policy), retries after an error, and the wait before a retry.
    GEOCODER_MIN_DELAY = float(os.environ.get("GEOCODER_MIN_DELAY", "1"))
    GEOCODER_MAX_RETRIES = _int("GEOCODER_MAX_RETRIES", 2)
    GEOCODER_ERROR_WAIT = float(os.environ.get("GEOCODER_ERROR_WAIT", "1"))
    # Another copy of the shipped geo data (schools, postcodes, polygons); empty: the package's
    GEO_DATA_DIR = os.environ.get("GEO_DATA_DIR", "")
    # Per-IP limit of the school lookup behind the form's suggestions
    SCHOOL_LOOKUP_RATE_LIMIT = os.environ.get("SCHOOL_LOOKUP_RATE_LIMIT", "120 per minute")

    # Map
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
    MAP_TILE_ATTRIBUTION = os.environ.get(
        "MAP_TILE_ATTRIBUTION", "&copy; OpenStreetMap-bijdragers"
    )

    # Rate limiting (Flask-Limiter)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Production refuses memory:// (each worker would count on its own) unless this says the
    # app really runs as one process
    RATELIMIT_ALLOW_MEMORY = _bool("RATELIMIT_ALLOW_MEMORY", False)
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    # Per-IP limits on real submissions of public forms (registry/security/antispam.py)
    SUBMISSION_RATE_LIMIT = os.environ.get(
        "SUBMISSION_RATE_LIMIT", "5 per minute;20 per hour;100 per day"
    )
    # Open data API (one budget per IP for all of /api/v1) and the connect forms
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "300 per minute;10000 per day")
    CONTACT_RATE_LIMIT = os.environ.get("CONTACT_RATE_LIMIT", "3 per minute;10 per day")
    SUBSCRIBE_RATE_LIMIT = os.environ.get("SUBSCRIBE_RATE_LIMIT", "5 per minute;20 per day")
    # "Request a new link" on the manage pages, per IP
    MANAGE_REQUEST_LIMIT = os.environ.get("MANAGE_REQUEST_LIMIT", "10 per hour")
    # A manage link stops working after this many months without use (a new one is mailed
    # on request; issuing one revokes the older links)
    MANAGE_LINK_IDLE_MONTHS = _int("MANAGE_LINK_IDLE_MONTHS", 12)
    # Generating a document or export that is not cached yet, per IP (repeats are served
    # from the shared cache and do not count)
    DOCUMENT_RATE_LIMIT = os.environ.get("DOCUMENT_RATE_LIMIT", "10 per minute;60 per hour")
    # A client refused this many times in a row gets the short 429 page instead of the form
    RATE_LIMIT_RERENDER_MAX = _int("RATE_LIMIT_RERENDER_MAX", 5)
    # Optional proof-of-work challenge on public forms (needs JavaScript in the browser)
    POW_ENABLED = _bool("POW_ENABLED", False)
    POW_MAXNUMBER = _int("POW_MAXNUMBER", 50_000)
    POW_TTL_SECONDS = _int("POW_TTL_SECONDS", 3600)
    # Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust
    PROXY_FIX_X_FOR = _int("PROXY_FIX_X_FOR", 0)

    # Where people report accessibility problems (the statement at /toegankelijkheid)
    ACCESSIBILITY_CONTACT_EMAIL = os.environ.get("ACCESSIBILITY_CONTACT_EMAIL", "")

    # Open-data metadata (registry/opendata: the DCAT-AP-DONL catalogue at /api/v1/catalog and
    # the Data Package at /export/datapackage.json): the licence of the data, who publishes
    # it (an empty URI: the home page) and the contact point catalogues show (an empty name:
    # the publisher's; an empty e-mail: only the link to /over)
    OPEN_DATA_LICENSE = os.environ.get("OPEN_DATA_LICENSE",
                                       "http://creativecommons.org/licenses/by/4.0/")
    OPEN_DATA_PUBLISHER_NAME = os.environ.get("OPEN_DATA_PUBLISHER_NAME",
                                              "Register gepersonaliseerd leren")
    OPEN_DATA_PUBLISHER_URI = os.environ.get("OPEN_DATA_PUBLISHER_URI", "")
    OPEN_DATA_CONTACT_NAME = os.environ.get("OPEN_DATA_CONTACT_NAME", "")
    OPEN_DATA_CONTACT_EMAIL = os.environ.get("OPEN_DATA_CONTACT_EMAIL", "")

    # Staff login
    TOTP_ENABLED = _bool("TOTP_ENABLED", False)  # second factor; required for admins when on
    LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCKOUT_MINUTES = _int("LOGIN_LOCKOUT_MINUTES", 15)
    LOGIN_RATE_LIMIT_IP = os.environ.get("LOGIN_RATE_LIMIT_IP", "20 per minute;200 per hour")
    LOGIN_RATE_LIMIT_ACCOUNT = os.environ.get("LOGIN_RATE_LIMIT_ACCOUNT",
                                              "5 per minute;30 per hour")
    # How long an invitation or set-password link stays valid (seconds)
    SET_PASSWORD_LINK_MAX_AGE = _int("SET_PASSWORD_LINK_MAX_AGE", 7 * 24 * 3600)
    # werkzeug's password hashing; tests use a cheap one
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")

    # The national table (registry.summary.disclosure) hides a figure that confidential
    # reports of fewer schools than this affect (docs/privacy.md)
    SMALL_NUMBER_THRESHOLD = _int("SMALL_NUMBER_THRESHOLD", 3)

    # Demo data (`flask seed-demo --if-empty`, run by `make run`)
    SEED_DEMO_ON_EMPTY = _bool("SEED_DEMO_ON_EMPTY", True)

    # Name of the configuration; "production" refuses unsafe settings at start-up
    ENV_NAME = "development"
    # Log level outside development and tests
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # Caches of rendered pages and computed summaries, per process, keyed by the public data
    # version (registry.cache); switch off to debug.
    PAGE_CACHE = _bool("PAGE_CACHE", True)
    SUMMARY_CACHE = _bool("SUMMARY_CACHE", True)
    # A cached detail page outlives publications of other entries for at most this many
    # seconds (its "similar initiatives" lag that long); any change that may take something
    # away (an edit, withdrawal, erasure, merge) renders it again at once. 0: every
    # publication renders every detail page again (issue 20).
    DETAIL_PAGE_LAG_SECONDS = _int("DETAIL_PAGE_LAG_SECONDS", 60)
    # Leave the objects built at start-up out of later garbage collections (gc.freeze), once
    # per process: the garbage collector's full passes walked them all, ~40% of the export of
    # all obstacles at 100,000 entries (registry.memory, issue 20)
    GC_FREEZE = _bool("GC_FREEZE", True)
    # Rendered documents (DOCX/PDF/XLSX) and exports, one file per canonical filter and data
    # version, shared by all workers on this machine (registry.documents)
    DOCUMENT_CACHE_DIR = os.environ.get("DOCUMENT_CACHE_DIR",
                                        str(BASE_DIR / "instance" / "documents"))

    # Rejected and withdrawn entries are deleted this many months after their last change
    # (`flask purge-retention`, registry.manage.retention; the privacy statement says so)
    RETENTION_MONTHS = _int("RETENTION_MONTHS", 12)

    # Relayed messages: at most this many per initiative per day (registry.connect)
    CONTACT_MAX_PER_DAY = _int("CONTACT_MAX_PER_DAY", 10)


class DevelopmentConfig(Config):
    DEBUG = True
    MAIL_BACKGROUND_SECONDS = float(os.environ.get("MAIL_BACKGROUND_SECONDS", "10"))


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    MAIL_BACKEND = "memory"
    MAIL_BACKGROUND_SECONDS = 0.0  # a test that wants the background sender switches it on
    MIN_FILL_SECONDS = 0
    RATELIMIT_ENABLED = False
    GC_FREEZE = False  # a test run builds many apps
    SERVER_NAME = None
    BASE_URL = "http://localhost"


class ProductionConfig(Config):
    ENV_NAME = "production"  # _check_production_safety refuses the default SECRET_KEY
    # Never print mail (manage links) to the server's log unless asked for explicitly
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
