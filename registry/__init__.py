"""The registry of fully personalised learning initiatives (Flask application factory)."""
from __future__ import annotations

import logging
import os

from flask import Flask

from config import CONFIGS, DEFAULT_SECRET_KEY, Config
from registry.memory import freeze_startup_objects


def create_app(config_class: type[Config] | str | None = None, **overrides) -> Flask:
    """Create the app. ``config_class`` may be a class or a name from config.CONFIGS."""
    if config_class is None:
        config_class = os.environ.get("REGISTRY_CONFIG", "development")
    if isinstance(config_class, str):
        config_class = CONFIGS[config_class]

    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=True,
    )
    app.config.from_object(config_class)
    app.config.update(overrides)
    _check_production_safety(app)
    os.makedirs(app.instance_path, exist_ok=True)

    register_extensions(app)
    register_event_handlers()
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_page_cache(app)
    register_security(app)
    configure_logging(app)
    if app.config["GC_FREEZE"]:
        freeze_startup_objects()
    return app


MIN_SECRET_KEY_BYTES = 32
MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'


def _is_production(app: Flask) -> bool:
    return app.config["ENV_NAME"] == "production" or (
        not app.debug and not app.testing and os.environ.get("REGISTRY_CONFIG") == "production"
    )


def _check_production_safety(app: Flask) -> None:
    """Refuse to start in production with settings an attacker could exploit (issue 17):
    a default, empty or short SECRET_KEY (sessions could be forged), per-worker rate limits
    (``memory://``); and answer only to the host of BASE_URL unless TRUSTED_HOSTS says more."""
    if not _is_production(app):
        return
    key = app.config["SECRET_KEY"]
    if key in (None, "", DEFAULT_SECRET_KEY):
        raise RuntimeError(
            "Refusing to start in production with the default SECRET_KEY: set the SECRET_KEY "
            f"environment variable to a long random value, made with: {MAKE_A_KEY}"
        )
    size = len(key.encode() if isinstance(key, str) else key)
    if size < MIN_SECRET_KEY_BYTES:
        raise RuntimeError(
            f"Refusing to start in production with a weak SECRET_KEY ({size} bytes; at least "
            f"{MIN_SECRET_KEY_BYTES} are needed): set the SECRET_KEY environment variable to a "
            f"long random value, made with: {MAKE_A_KEY}"
        )
    storage = str(app.config["RATELIMIT_STORAGE_URI"] or "memory://")
    if storage.startswith("memory://") and not app.config["RATELIMIT_ALLOW_MEMORY"]:
        raise RuntimeError(
            "Refusing to start in production with RATELIMIT_STORAGE_URI=memory://: every "
            "worker would count on its own, so each limit would be as loose as the number of "
            "workers. Use shared storage, e.g. RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0, "
            "or set RATELIMIT_ALLOW_MEMORY=true if the app really runs as a single process."
        )
    if not app.config["TRUSTED_HOSTS"]:
        from registry.urls import base_host

        host = base_host(app.config["BASE_URL"])
        if not host:
            raise RuntimeError(
                "Refusing to start in production without a host: set BASE_URL to the public "
                "address (e.g. https://register.example.nl) or TRUSTED_HOSTS."
            )
        # Flask answers other Host headers with 400 (werkzeug SecurityError)
        app.config["TRUSTED_HOSTS"] = [host]


def register_extensions(app: Flask) -> None:
    from registry import (
        database,
        models,  # noqa: F401 - make every model known to SQLAlchemy
    )
    from registry.extensions import babel, csrf, db, limiter, login_manager, migrate, select_locale
    from registry.mail import delivery

    db.init_app(app)
    database.init_app(app)  # SQLite pragmas; the write gate only where configured
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    delivery.init_app(app)  # mail queued in a transaction goes out after its commit
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=_translation_dirs(app),
    )


def _translation_dirs(app: Flask) -> str:
    """Every ``translations`` folder in the package (one per domain) is merged by Flask-Babel."""
    dirs = []
    for root, subdirs, _files in os.walk(app.root_path):
        if "translations" in subdirs:
            dirs.append(os.path.join(root, "translations"))
    return ";".join(sorted(dirs))


# One blueprint per domain; each module has ``bp`` (views.py) and may have ``register`` (cli.py).
DOMAINS = (
    "public", "submissions", "manage", "auth", "admin", "moderation", "mail", "geo", "maps",
    "exports", "summary", "api", "connect", "themes", "pilots", "opendata",
    "imports",
)


# Domains that react to domain events (registry/events.py); each has ``receivers.register``.
RECEIVERS = ("history.receivers", "moderation.receivers", "manage.notifications",
             "connect.receivers", "published.receivers")


def register_event_handlers() -> None:
    """Connect every domain's receivers to the domain events (idempotent)."""
    import importlib

    for name in RECEIVERS:
        importlib.import_module(f"registry.{name}").register()


def register_blueprints(app: Flask) -> None:
    import importlib

    for domain in DOMAINS:
        module = importlib.import_module(f"registry.{domain}.views")
        app.register_blueprint(module.bp)


def register_errorhandlers(app: Flask) -> None:
    from registry.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from registry.templating import register

    register(app)


def register_page_cache(app: Flask) -> None:
    from registry.cache import init_app

    init_app(app)


def register_security(app: Flask) -> None:
    from registry.security import init_app

    init_app(app)


def register_commands(app: Flask) -> None:
    from registry.cli import register

    register(app)


def configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=app.config["LOG_LEVEL"],
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
