"""Every staff route refuses anonymous users and users of a weaker role (walks the URL map).

Staff routes are discovered generically: every endpoint of a blueprint with a
``required_role`` (``protect_blueprint``) or whose view function has one (``role_required``).
Every endpoint of the blueprints admin, moderation and mail must be a staff route.
"""
from __future__ import annotations

import pytest

from registry.auth.models import ROLE_RANK, ROLES

STAFF_BLUEPRINTS = {"admin", "moderation", "mail"}
SKIP_METHODS = {"HEAD", "OPTIONS"}


def required_role(app, endpoint: str) -> str | None:
    view = app.view_functions[endpoint]
    role = getattr(view, "required_role", None)
    if role:
        return role
    if "." in endpoint:
        blueprint = app.blueprints.get(endpoint.rsplit(".", 1)[0])
        return getattr(blueprint, "required_role", None)
    return None


def sample_url(app, rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        values[name] = 1 if kind in ("IntegerConverter", "FloatConverter") else "x"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def staff_routes(app) -> list[tuple[str, str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        role = required_role(app, rule.endpoint)
        if role is None:
            continue
        for method in sorted(rule.methods - SKIP_METHODS):
            routes.append((rule.endpoint, method, sample_url(app, rule), role))
    return routes


def test_admin_and_moderation_are_protected_as_a_whole(app):
    for name in ("admin", "moderation"):
        blueprint = app.blueprints.get(name)
        assert blueprint is not None, name
        assert getattr(blueprint, "required_role", None) in ROLES, (
            f"blueprint {name!r} must call protect_blueprint(bp, role)")


def test_the_walk_finds_the_staff_routes(app):
    endpoints = {endpoint for endpoint, *_ in staff_routes(app)}
    assert {"moderation.queue", "moderation.entry", "moderation.publish", "admin.users",
            "admin.audit", "moderation.theme"} <= endpoints
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in STAFF_BLUEPRINTS:
            assert rule.endpoint in endpoints, f"{rule.endpoint} has no role check"


def _request(client, method, url, **kwargs):
    return client.open(url, method=method, data={} if method != "GET" else None, **kwargs)


def test_every_staff_route_refuses_anonymous_users(app):
    app.config["WTF_CSRF_ENABLED"] = False  # the role check is under test, not CSRF
    client = app.test_client()
    routes = staff_routes(app)
    assert routes
    for endpoint, method, url, _role in routes:
        response = _request(client, method, url)
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert "/login" in response.headers["Location"], endpoint
        as_json = _request(client, method, url, headers={"Accept": "application/json"})
        assert as_json.status_code == 401, (endpoint, method, as_json.status_code)


@pytest.mark.parametrize("user_role", ROLES)
def test_every_staff_route_refuses_weaker_roles(app, login, user_role):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    login(client, user_role)
    checked = 0
    for endpoint, method, url, role in staff_routes(app):
        if ROLE_RANK[user_role] >= ROLE_RANK[role]:
            continue
        response = _request(client, method, url)
        assert response.status_code == 403, (endpoint, method, user_role, response.status_code)
        checked += 1
    if user_role != "admin":
        assert checked > 0


def test_deactivated_or_logged_out_users_are_anonymous(app, login, db):
    client = app.test_client()
    user = login(client, "admin")
    assert client.get("/beheer/gebruikers").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/beheer/gebruikers").status_code == 302
