"""Public theme pages: what schools learn per curated theme (knelpunt).

    /knelpunten/thema/            every theme, per area
    /knelpunten/thema/<theme_id>  one theme: problem, rules and their origin, existing room,
                                  the ask, figures, the initiatives facing it, workarounds,
                                  contact through the relay and following it (digest)
"""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from registry.cache import cached_page
from registry.themes import services

bp = Blueprint("themes", __name__, url_prefix="/knelpunten/thema")


@bp.route("/")
@cached_page
def index():
    return render_template("themes/index.html", areas=services.theme_index())


@bp.route("/<int:theme_id>")
@cached_page
def theme(theme_id: int):
    page = services.theme_page(theme_id)
    if page is None:
        abort(404)
    # Staff (advisor and up) get the pilot dossier link; @cached_page never serves or keeps
    # a logged-in user's page, so the link never reaches the public.
    staff = bool(current_user.is_authenticated and current_user.has_role("advisor"))
    return render_template("themes/theme.html", staff=staff, **page)
