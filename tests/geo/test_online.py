"""geopy's real Nominatim client against a stub HTTP server on 127.0.0.1 (no internet)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from registry.geo.models import GeocodeCache
from registry.geo.services import locate_organisation
from registry.submissions.models import Organisation

UTRECHT = {"lat": "52.0907", "lon": "5.1214", "display_name": "Domplein 1, Utrecht",
           "addresstype": "building", "class": "building", "type": "yes"}


class StubNominatim:
    """Answers /search like Nominatim; ``script`` is a list of actions, the last repeats."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list = [[UTRECHT]]
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # http.server API
                parts = urlsplit(self.path)
                stub.requests.append({"path": parts.path, "query": parse_qs(parts.query),
                                      "agent": self.headers.get("User-Agent")})
                index = min(len(stub.requests), len(stub.script)) - 1
                action = stub.script[index]
                if isinstance(action, int):
                    self.send_response(action)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if isinstance(action, float):  # slow answer: longer than the timeout
                    time.sleep(action)
                    action = [UTRECHT]
                body = json.dumps(action).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def nominatim(app):
    with StubNominatim() as stub:
        app.config.update(
            GEOCODER_ONLINE=True, GEOCODER_PROVIDER="nominatim",
            GEOCODER_DOMAIN=f"127.0.0.1:{stub.port}", GEOCODER_SCHEME="http",
            GEOCODER_USER_AGENT="registry-tests/1.0", GEOCODER_TIMEOUT=0.3,
            GEOCODER_MIN_DELAY=0.0, GEOCODER_MAX_RETRIES=1,
        )
        yield stub


def unknown_org(street="Domplein 1", postcode="0999 XX", city="Utrecht") -> Organisation:
    """An address the offline data cannot place (PC4 0999 does not exist)."""
    return Organisation(name="Leerhuis", brin="99ZZ", sector="po", street=street,
                        postcode=postcode, city=city)


def cache_rows(db) -> int:
    return db.session.scalar(select(func.count(GeocodeCache.id)))


def test_success_uses_config_and_records_source_and_precision(db, nominatim):
    o = unknown_org()
    assert locate_organisation(o, online=True)
    assert (o.geo_source, o.geo_precision, o.province, o.municipality) == (
        "online", "address", "Utrecht", "Utrecht")
    assert o.latitude == pytest.approx(52.0907)
    request = nominatim.requests[0]
    assert request["path"] == "/search"
    assert request["query"]["q"] == ["Domplein 1, 0999 XX Utrecht, Nederland"]
    assert request["query"]["countrycodes"] == ["nl"]
    assert request["agent"] == "registry-tests/1.0"


def test_cache_hit_asks_the_service_only_once(db, nominatim):
    assert locate_organisation(unknown_org(), online=True)
    db.session.commit()
    assert locate_organisation(unknown_org(), online=True)
    assert len(nominatim.requests) == 1
    assert cache_rows(db) == 1


def test_not_found_is_flagged_and_the_miss_cached(db, nominatim):
    nominatim.script = [[]]
    o = unknown_org(street="")
    assert locate_organisation(o, online=True) is False
    assert o.geo_status == "failed"
    assert locate_organisation(unknown_org(street=""), online=True) is False
    assert len(nominatim.requests) == 1
    assert db.session.scalars(select(GeocodeCache)).one().found is False


def test_http_error_is_retried_then_flagged_and_not_cached(db, nominatim):
    nominatim.script = [500]
    o = unknown_org(street="")
    assert locate_organisation(o, online=True) is False
    assert o.geo_status == "failed"
    assert len(nominatim.requests) == 2  # first try + GEOCODER_MAX_RETRIES
    assert cache_rows(db) == 0


def test_timeout_is_flagged(app, db, nominatim):
    app.config.update(GEOCODER_TIMEOUT=0.1, GEOCODER_MAX_RETRIES=0)
    nominatim.script = [0.4]
    o = unknown_org(street="")
    assert locate_organisation(o, online=True) is False
    assert o.geo_status == "failed"
    assert cache_rows(db) == 0


def test_rate_limited_answer_is_retried_by_the_rate_limiter(db, nominatim):
    nominatim.script = [429, [UTRECHT]]
    o = unknown_org(street="")
    assert locate_organisation(o, online=True)
    assert o.geo_source == "online"
    assert len(nominatim.requests) == 2


def test_result_outside_the_netherlands_is_not_used(db, nominatim):
    nominatim.script = [[{**UTRECHT, "lat": "50.85", "lon": "4.35"}]]
    o = unknown_org(street="")
    assert locate_organisation(o, online=True) is False


def test_no_request_when_online_is_off(app, db, nominatim):
    assert locate_organisation(unknown_org(), online=False) is False
    app.config["GEOCODER_ONLINE"] = False
    assert locate_organisation(unknown_org(), online=True) is False
    assert nominatim.requests == []


def test_offline_hits_never_reach_the_service(db, nominatim):
    o = unknown_org(postcode="3511 AB")
    assert locate_organisation(o, online=True)
    assert o.geo_source == "postcode"
    assert nominatim.requests == []


def test_geocode_command_resolves_the_backlog_online(app, db, runner, nominatim):
    from tests.factories import make_initiative

    initiative = make_initiative(postcode="0999 XX", city="Utrecht")
    assert initiative.organisation.geo_status == "failed"
    result = runner.invoke(args=["geocode"])
    assert result.exit_code == 0, result.output
    assert "Resolved 1" in result.output
    assert "online geocoder on" in result.output
    db.session.refresh(initiative.organisation)
    assert initiative.organisation.province == "Utrecht"
