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

    # Public base URL, used in e-mails (links must work outside a request).
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")

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

    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
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
    MAIL_SEND_IMMEDIATELY = _bool("MAIL_SEND_IMMEDIATELY", True)
    # Mail sent right away is marked "sent" in batches, every this many seconds (0: at once).
    MAIL_MARK_BATCH_SECONDS = float(os.environ.get("MAIL_MARK_BATCH_SECONDS", "0.2"))

    # Geocoding
    GEOCODER_ONLINE = _bool("GEOCODER_ONLINE", False)
    GEOCODER_PROVIDER = os.environ.get("GEOCODER_PROVIDER", "nominatim")
    GEOCODER_DOMAIN = os.environ.get("GEOCODER_DOMAIN", "nominatim.openstreetmap.org")
    GEOCODER_SCHEME = os.environ.get("GEOCODER_SCHEME", "https")
    GEOCODER_USER_AGENT = os.environ.get(
        "GEOCODER_USER_AGENT", "registry-gepersonaliseerd-leren/0.1"
    )
    GEOCODER_TIMEOUT = float(os.environ.get("GEOCODER_TIMEOUT", "5"))
    GEOCODER_MIN_DELAY = float(os.environ.get("GEOCODER_MIN_DELAY", "1"))

    # Map
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
    MAP_TILE_ATTRIBUTION = os.environ.get(
        "MAP_TILE_ATTRIBUTION", "&copy; OpenStreetMap-bijdragers"
    )

    # Rate limiting (Flask-Limiter)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
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
    # Optional proof-of-work challenge on public forms (needs JavaScript in the browser)
    POW_ENABLED = _bool("POW_ENABLED", False)
    POW_MAXNUMBER = _int("POW_MAXNUMBER", 50_000)
    # Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust
    PROXY_FIX_X_FOR = _int("PROXY_FIX_X_FOR", 0)

    # Where people report accessibility problems (the statement at /toegankelijkheid)
    ACCESSIBILITY_CONTACT_EMAIL = os.environ.get("ACCESSIBILITY_CONTACT_EMAIL", "")

    # Staff login
    TOTP_ENABLED = _bool("TOTP_ENABLED", False)  # second factor; required for admins when on
    LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCKOUT_MINUTES = _int("LOGIN_LOCKOUT_MINUTES", 15)

    # Aggregates: counts below this number of schools are shown as "<N" to the public
    SMALL_NUMBER_THRESHOLD = _int("SMALL_NUMBER_THRESHOLD", 3)

    # Demo data
    SEED_DEMO_ON_EMPTY = _bool("SEED_DEMO_ON_EMPTY", True)


class DevelopmentConfig(Config):
    DEBUG = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    MAIL_BACKEND = "memory"
    MAIL_MARK_BATCH_SECONDS = 0.0  # tests read the outbox right after a request
    MIN_FILL_SECONDS = 0
    RATELIMIT_ENABLED = False
    SERVER_NAME = None
    BASE_URL = "http://localhost"


class ProductionConfig(Config):
    ENV_NAME = "production"  # _check_production_safety refuses the default SECRET_KEY
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
