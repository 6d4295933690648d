"""Flask extensions, created unbound and initialised in the app factory."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from registry.database import Base

db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    # mypy cannot use ``db.Model``, which is built at run time, as a base class. db.Model is a
    # subclass of Base, so to the type checker the models derive from Base directly.
    Model = Base
else:
    Model = db.Model
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def select_locale() -> str:
    """Locale from the session (language switch), then ?lang=, then the browser; Dutch default."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    lang = request.args.get("lang")
    if lang is not None and lang in languages:
        return lang
    lang = session.get("lang")
    if isinstance(lang, str) and lang in languages:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


babel = Babel()
