"""/api/v1/catalog (DCAT-AP-DONL, JSON-LD) and /export/datapackage.json (Frictionless).

Both are cached per public data version like the other public reads (``cached_page``);
absolute URLs come from BASE_URL (``registry.urls``), never from the request's host.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app

from registry.cache import cached_page
from registry.documents import request_filter
from registry.extensions import limiter
from registry.opendata import services
from registry.published.web import current_source
from registry.taxonomy.services import current as current_taxonomy
from registry.urls import absolute_url

bp = Blueprint("opendata", __name__)


def _api_rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def _settings() -> services.Settings:
    return services.Settings.from_config(current_app.config, absolute_url)


def _json(data: dict[str, Any], mimetype: str):
    body = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return current_app.response_class(body, mimetype=mimetype)


@bp.route("/api/v1/catalog")
@limiter.shared_limit(_api_rate_limit, scope="api")  # the API's one budget per address
@cached_page
def catalog():
    """The DCAT-AP-DONL catalogue of the public datasets, for data.overheid.nl."""
    return _json(services.build_catalog(absolute_url, _settings()), "application/ld+json")


@bp.route("/export/datapackage.json")
@cached_page
def datapackage():
    """The Frictionless Data Package of the CSV exports. It takes the parameters the exports
    take (the filter, ``snapshot``) and refuses others, as they do; its files carry them."""
    flt = request_filter()
    src = current_source()
    facts = (services.snapshot_facts(src.snapshot) if src.snapshot is not None
             else services.live_facts())
    return _json(services.build_datapackage(absolute_url, _settings(), current_taxonomy(),
                                            facts, flt), "application/json")
