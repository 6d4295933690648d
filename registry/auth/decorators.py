"""The one role check every staff view uses (server-side, default deny)."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from registry.errors import wants_json


def _refuse():
    if not current_user.is_authenticated:
        if wants_json():
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(403)


def role_required(role: str):
    """Allow users whose role is ``role`` or stronger (advisor < moderator < admin)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated or not current_user.has_role(role):
                return _refuse()
            return view(*args, **kwargs)

        # read by the access-control test that walks the URL map (mypy: no function attributes)
        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped
    return decorator


def protect_blueprint(bp: Blueprint, role: str) -> None:
    """Default deny: every route of ``bp`` needs at least ``role`` (checked before the view)."""
    # read by the same test; Blueprint declares no such attribute
    bp.required_role = role  # type: ignore[attr-defined]

    @bp.before_request
    def _check_role():
        if not current_user.is_authenticated or not current_user.has_role(role):
            return _refuse()
        return None
