"""The public JSON API: content, pagination, errors, caching, CORS, rate limits, privacy."""
from __future__ import annotations

import random
from urllib.parse import urlencode

import pytest
from sqlalchemy import text

from registry.extensions import db as _db
from tests.factories import AREA_CODES, DIMENSION_CODES, PHASE_CODES, SECTOR_CODES
from tests.fixtures.limits import rate_limited_app
from tests.summary import oracle
from tests.summary.oracle import PROVINCES, Args
from tests.summary.varied import build_varied


def test_list_shows_only_published_ordered_by_id_with_links(client, api_data):
    r = client.get("/api/v1/initiatives?per_page=2")
    assert r.status_code == 200
    body = r.get_json()
    ids = [i["id"] for i in body["data"]]
    assert ids == sorted(ids)
    assert len(ids) == 2
    assert body["meta"] == {"total": 3, "page": 1, "per_page": 2, "pages": 2}
    assert body["links"]["prev"] is None
    assert body["links"]["next"].endswith("/api/v1/initiatives?per_page=2&page=2")
    assert 'rel="next"' in r.headers["Link"]
    page2 = client.get(body["links"]["next"]).get_json()
    assert [i["id"] for i in page2["data"]] == [api_data["c"].id]
    assert page2["links"]["next"] is None
    assert page2["links"]["prev"].endswith("page=1")
    titles = {i["title"] for i in body["data"] + page2["data"]}
    assert "Nog niet gepubliceerd" not in titles


def test_filters_are_those_of_the_map(client, api_data):
    body = client.get("/api/v1/initiatives?sector=vo&sector=po").get_json()
    assert {i["organisation"]["sector"] for i in body["data"]} == {"vo", "po"}
    body = client.get("/api/v1/initiatives?area=diplomeren").get_json()
    assert [i["id"] for i in body["data"]] == [api_data["a"].id]
    body = client.get(f"/api/v1/initiatives?theme={api_data['theme'].id}").get_json()
    assert [i["id"] for i in body["data"]] == [api_data["a"].id]
    body = client.get("/api/v1/initiatives?q=lyceum").get_json()
    assert [i["id"] for i in body["data"]] == [api_data["b"].id]


def test_detail_has_obstacles_and_dimensions(client, api_data):
    a = api_data["a"]
    body = client.get(f"/api/v1/initiatives/{a.id}").get_json()
    assert body["title"] == a.title
    assert [o["title"] for o in body["obstacles"]] == ["Examens in juni", "Geen deeldiploma"]
    assert body["obstacles"][0]["theme_id"] == api_data["theme"].id
    assert {d["code"] for d in body["dimensions"]} >= {"doelen", "tempo"}
    assert body["html_url"].endswith(f"/initiatieven/{a.id}")


def test_unpublished_initiative_is_404_problem(client, api_data):
    r = client.get(f"/api/v1/initiatives/{api_data['draft'].id}")
    assert r.status_code == 404
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["status"] == 404


def test_obstacles_themes_and_taxonomies(client, api_data):
    body = client.get("/api/v1/obstacles?severity=4").get_json()
    assert [o["title"] for o in body["data"]] == ["Geen deeldiploma"]
    body = client.get("/api/v1/obstacles?area=examineren").get_json()
    assert {o["title"] for o in body["data"]} == {"Examens in juni", "Eindtoets"}
    themes = client.get("/api/v1/themes").get_json()["data"]
    theme = api_data["theme"]
    assert themes == [{
        "id": theme.id, "area": "examineren", "title": "Vaste examenmomenten",
        "description": "Examens alleen op vaste data.", "ask": "",
        "title_en": "", "description_en": "", "ask_en": "",  # none written (issue 19)
        "rules": [{"id": 1, "title": "Eindexamenbesluit VO", "level": "amvb",
                   "source_url": "https://wetten.overheid.nl/BWBR0004593",
                   "existing_room": "", "title_en": "", "existing_room_en": ""}],
        "url": f"http://localhost/api/v1/themes/{theme.id}"}]
    assert client.get(f"/api/v1/themes/{theme.id}").get_json() == themes[0]
    assert client.get(f"/api/v1/themes/{theme.id + 1}").status_code == 404


TAXONOMY_TABLES = {
    "areas": "SELECT code, label_nl, label_en, description_nl, description_en "
             "FROM obstacle_area ORDER BY position, code",
    "dimensions": "SELECT code, label_nl, label_en FROM dimension ORDER BY position, code",
    "sectors": "SELECT code, label_nl, label_en FROM sector ORDER BY position, code",
    "phases": "SELECT code, label_nl, label_en FROM phase ORDER BY position, code",
}


def _table(name: str) -> list[dict]:
    """A taxonomy table as plain SQL rows, in display order."""
    rows = _db.session.execute(text(TAXONOMY_TABLES[name]))
    return [{k: v or "" for k, v in r._mapping.items()} for r in rows]


def test_taxonomies_are_the_seeded_tables(client, api_data):
    tax = client.get("/api/v1/taxonomies").get_json()
    assert list(tax) == ["areas", "dimensions", "sectors", "phases", "severities",
                         "obstacle_statuses", "levels", "provinces", "rule_levels"]
    for name in TAXONOMY_TABLES:
        assert tax[name] == _table(name), name
    # The codes are the vocabularies of DOMAIN.md, in its order.
    for name, codes in (("areas", AREA_CODES), ("dimensions", DIMENSION_CODES),
                        ("sectors", SECTOR_CODES), ("phases", PHASE_CODES)):
        assert [t["code"] for t in tax[name]] == list(codes), name
    assert tax["sectors"][0] == {
        "code": "po", "label_nl": "Primair onderwijs (po, incl. sbo/so)",
        "label_en": "Primary education (po, incl. special education)"}
    assert tax["dimensions"][3] == {
        "code": "tempo", "label_nl": "Volgorde en tempo (wanneer)",
        "label_en": "Sequence and pace (when)"}
    assert [p["code"] for p in tax["provinces"]] == list(PROVINCES)
    assert [(s["code"], s["label_nl"]) for s in tax["severities"]] == [
        (1, "1 - hindert"), (2, "2 - vertraagt"), (3, "3 - blokkeert een deel"),
        (4, "4 - blokkeert het initiatief")]
    assert [s["code"] for s in tax["obstacle_statuses"]] == ["open", "omzeild", "opgelost"]
    assert [r["code"] for r in tax["rule_levels"]] == list(oracle.RULE_LEVEL_ORDER)
    levels = client.get("/api/v1/taxonomies/levels").get_json()
    assert levels["name"] == "levels"
    assert [x["code"] for x in levels["data"]] == [0, 1, 2, 3]
    assert levels["data"][3]["label_en"] != levels["data"][3]["label_nl"]  # translated
    assert client.get("/api/v1/taxonomies/areas").get_json()["data"] == tax["areas"]
    assert client.get("/api/v1/taxonomies/nope").status_code == 404


@pytest.mark.parametrize(("query", "param"), [
    ("sector=xyz", "sector"), ("area=", "area"), ("page=0", "page"), ("page=abc", "page"),
    ("per_page=101", "per_page"), ("theme=-1", "theme"), ("dimension=nope", "dimension"),
    ("min_level=7", "min_level"), ("q=" + "x" * 201, "q"), ("sector=po,vo", "sector"),
])
def test_bad_parameters_are_400_problem_details(client, api_data, query, param):
    r = client.get(f"/api/v1/initiatives?{query}")
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["status"] == 400
    assert body["title"]
    assert body["detail"]
    assert body["invalid_params"][0]["name"] == param
    assert body["type"].endswith("/api/v1/docs#problem-invalid-parameter")


def test_bad_snapshot_and_unknown_routes(client, api_data):
    assert client.get("/api/v1/statistics?snapshot=2026-01-zz").status_code == 404
    assert client.get("/api/v1/statistics?snapshot=x").status_code == 400
    r = client.get("/api/v1/nope")
    assert r.status_code == 404
    assert r.mimetype == "application/problem+json"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    r = client.post("/api/v1/initiatives")
    assert r.status_code == 405
    assert r.mimetype == "application/problem+json"
    assert "GET" in r.headers["Allow"]
    assert client.get("/api/v1/initiatives/99999999999").status_code == 404


def test_etag_and_304(client, api_data):
    r = client.get("/api/v1/initiatives")
    etag = r.headers["ETag"]
    assert etag
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get("/api/v1/initiatives", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    stats = client.get("/api/v1/statistics")
    assert client.get("/api/v1/statistics",
                      headers={"If-None-Match": stats.headers["ETag"]}).status_code == 304
    # A change in the data changes the ETag.
    api_data["b"].title = "Nieuwe titel"
    _db.session.commit()
    changed = client.get("/api/v1/initiatives", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_cors_preflight(client, api_data):
    r = client.options("/api/v1/initiatives", headers={
        "Origin": "https://dashboard.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in r.headers["Access-Control-Allow-Headers"]
    assert "GET" in r.headers["Access-Control-Allow-Methods"]


AREA_TABLE = "Per gebied: initiatieven, scholen, lerenden en meldingen"
THEME_TABLE = "Per thema, met de regels en hun herkomst"
STATISTICS_FILTERS = [{}, {"sector": "mbo"}, {"area": "examineren"}, {"sector": "vo"},
                      {"q": "LYCEUM"}, {"area": ["diplomeren", "overig"], "sector": ["mbo", "vo"]}]


def test_statistics_are_the_summary_numbers(app, client, api_data):
    """Every figure of /statistics equals the recomputation from plain SQL rows (public:
    small numbers of schools suppressed)."""
    rows = oracle.load(_db.session)
    for args in STATISTICS_FILTERS:
        args = Args.of(args)
        body = client.get("/api/v1/statistics?" + urlencode(args.query_string())).get_json()
        expected = oracle.summary(rows, args)
        assert set(body) == {"meta", "key_message", "totals", "areas", "themes", "origins",
                             "top_rules", "policy_asks", "quarters", "changes", "national"}
        for key in ("totals", "areas", "themes", "origins", "top_rules", "policy_asks",
                    "quarters"):
            assert body[key] == expected[key], (args, key)
        # The key message without its quotes (consented for policy overviews only).
        assert body["key_message"] == {**expected["key_message"], "themes": [
            {k: v for k, v in t.items() if k != "quote"}
            for t in expected["key_message"]["themes"]]}, args
        assert body["meta"]["exact"] is False
        assert body["meta"]["threshold"] == 3
    body = client.get("/api/v1/statistics").get_json()
    assert body["totals"]["initiatives"] == 3
    assert body["totals"]["obstacles"] == 4
    # Public reports are public by name: exact, also for one school (issue 16).
    assert body["totals"]["schools"] == 3
    assert client.get("/api/v1/statistics?sector=vo").get_json()["totals"]["schools"] == 1


def test_statistics_match_the_summary_page(app, client, api_data):
    """The area and theme tables of /knelpunten (read with an HTML parser) show the figures
    of /statistics, and both are the oracle's."""
    rows = oracle.load(_db.session)
    labels = {a["code"]: a["label_nl"] for a in rows.areas}
    for args in STATISTICS_FILTERS:
        query = urlencode(Args.of(args).query_string())
        body = client.get(f"/api/v1/statistics?{query}").get_json()
        tables = oracle.html_tables(client.get(f"/knelpunten?{query}").get_data(as_text=True))
        areas = [r[:8] for r in tables[AREA_TABLE][1:]]
        assert areas == [[labels[a["code"]], *oracle.count_cells(a)] for a in body["areas"]] + [
            ["Totaal", *oracle.count_cells(body["totals"])]], args
        themes = tables.get(THEME_TABLE, [])[1:]
        assert [[r[0], *r[3:10]] for r in themes] == [
            [t["title"], *oracle.count_cells(t)] for t in body["themes"]], args
        expected = oracle.summary(rows, Args.of(args))
        assert body["totals"] == expected["totals"]


# --- lists against the oracle, on a varied data set ---------------------------------------

@pytest.fixture
def varied(app):
    return [t.id for t in build_varied(random.Random(21), count=45)]


def _all_pages(client, path: str) -> list[dict]:
    items, url = [], path
    while url:
        body = client.get(url).get_json()
        items += body["data"]
        url = body["links"]["next"]
    return items


def test_lists_match_the_oracle(client, varied):
    """/initiatives (ids, paginated) and /obstacles (narrowed by area and theme, then by
    severity and status) select what the brute-force oracle selects."""
    rows = oracle.load(_db.session)
    rnd = random.Random(22)
    cases = [{}, {"q": "ÉCOLE"}, {"q": "fryslan"}, {"province": "Fryslân"},
             {"area": ["examineren", "valideren"]}, {"theme": varied[:2]},
             {"dimension": "plaats", "min_level": "3"}, {"dimension": "doelen", "min_level": "0"}]
    cases += [{"sector": rnd.sample(SECTOR_CODES, 3), "phase": rnd.sample(PHASE_CODES, 3),
               "area": rnd.sample(AREA_CODES, 2)} for _ in range(4)]
    for raw in cases:
        args = Args.of(raw)
        query = urlencode(args.query_string())
        found = _all_pages(client, f"/api/v1/initiatives?per_page=7&{query}")
        expected = oracle.ids(rows, args)
        assert [i["id"] for i in found] == expected, raw
        for item in found:
            obstacles = rows.obstacles[item["id"]]
            assert item["obstacle_count"] == len(obstacles)
            assert item["areas"] == sorted({o["area_code"] for o in obstacles})
        obstacles = _all_pages(client, f"/api/v1/obstacles?per_page=50&{query}")
        assert [o["id"] for o in obstacles] == oracle.obstacle_ids(rows, args), raw
        narrowed = _all_pages(client, f"/api/v1/obstacles?per_page=100&{query}"
                                      "&severity=3&severity=4&status=open&status=omzeild")
        wanted = {o["id"] for rec, obs in oracle.selected(rows, args) for o in obs
                  if o["severity"] in (3, 4) and o["status"] in ("open", "omzeild")}
        assert [o["id"] for o in narrowed] == sorted(wanted), raw


# --- privacy: every field the API can emit is on an allow-list ---

ALLOWED_FIELDS = {
    # pagination envelope
    "data", "meta", "links", "total", "page", "per_page", "pages", "self", "first", "last",
    "prev", "next", "name",
    # index
    "title", "openapi", "docs", "initiatives", "obstacles", "themes", "taxonomies", "statistics",
    # initiative
    "id", "reference", "summary", "phase", "start_year", "learners_count", "staff_count",
    "language", "published_at", "updated_at", "areas", "obstacle_count", "organisation", "url",
    "html_url", "description", "ict", "dimensions",
    # organisation (the school; no street or postcode)
    "brin", "location_number", "sector", "levels", "qualification_codes", "city",
    "municipality", "province", "website", "latitude", "longitude", "geo_precision",
    # dimension, obstacle
    "code", "current_level", "ambition_level", "initiative_id", "area", "rule", "severity",
    "status", "workaround", "policy_ask", "theme_id",
    # theme (with the optional English texts of issue 19)
    "rules", "level", "source_url", "existing_room", "title_en", "ask_en", "existing_room_en",
    # taxonomies
    "label_nl", "label_en", "description_nl", "description_en", "sectors", "phases",
    "severities", "obstacle_statuses", "provinces", "rule_levels",
    # statistics
    "source", "snapshot", "data_date", "filter", "filter_args", "exact", "threshold", "totals",
    "schools", "learners", "solved", "worked_around", "origins", "mixed", "group",
    "mixed_themes", "key_message", "figures", "problem", "ask", "severe_share",
    "schools_change", "filter_words", "top_rules",
    "policy_asks", "asks", "text", "count", "quarters", "quarter", "changes", "previous",
    "previous_date", "new_themes", "solved_obstacles", "new_obstacles", "new_provinces",
    "withdrawn_since", "national", "rows", "kind", "suppressed", "reports", "confidential",
    # problem details
    "type", "detail", "instance", "invalid_params", "reason",
}
# Keys that are data values rather than field names (codes used as dict keys).
VALUE_KEY_PARENTS = {"sectors", "provinces", "severity", "status", "filter_args"}


def _field_names(value, parent: str = "") -> set[str]:
    names: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if parent not in VALUE_KEY_PARENTS:
                names.add(key)
            names |= _field_names(item, key)
    elif isinstance(value, list):
        for item in value:
            names |= _field_names(item, parent)
    return names


def test_no_personal_data_in_any_response(client, api_data):
    a = api_data["a"]
    a.contact.consent_publish_name = True
    a.contact.role = "Teamleider Zorg"
    _db.session.commit()
    urls = ["/api/v1/", "/api/v1/initiatives?per_page=100", "/api/v1/obstacles?per_page=100",
            "/api/v1/themes", "/api/v1/taxonomies", "/api/v1/statistics",
            "/api/v1/initiatives?sector=nope", "/api/v1/nope"]
    urls += [f"/api/v1/initiatives/{api_data[k].id}" for k in ("a", "b", "c", "draft")]
    urls += [f"/api/v1/themes/{api_data['theme'].id}", "/api/v1/taxonomies/areas"]
    secrets = []
    for key in ("a", "b", "c", "draft"):
        contact = api_data[key].contact
        secrets += [contact.name, contact.email, contact.phone]
    secrets += ["Teamleider Zorg", "Schoolstraat", "3511"]
    seen: set[str] = set()
    for url in urls:
        r = client.get(url)
        body = r.get_json()
        seen |= _field_names(body)
        text = r.get_data(as_text=True)
        for secret in secrets:
            assert secret not in text, (url, secret)
    unexpected = seen - ALLOWED_FIELDS
    assert not unexpected, f"fields not on the allow-list: {sorted(unexpected)}"


def test_openapi_schemas_only_declare_allowed_fields(client, api_data):
    spec = client.get("/api/v1/openapi.json").get_json()
    declared: set[str] = set()
    for name, schema in spec["components"]["schemas"].items():
        if name == "Statistics":
            continue  # nested: covered by the response walk above
        declared |= set(schema.get("properties", {}))
    assert declared - ALLOWED_FIELDS == set()


def test_docs_page_renders_without_inline_code(client, api_data):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "/initiatives/{id}" in html
    assert "invalid_params" in html
    assert "<code>examineren</code>" in html
    assert "<code>tempo</code>" in html
    assert "<script>" not in html
    assert " style=" not in html
    assert "<style" not in html
    assert client.get("/api/v1/docs?lang=en").status_code == 200


# --- rate limiting (a separate app: the limiter is configured when the app is created) ---

@pytest.fixture
def limited_app(app):
    with rate_limited_app(app, API_RATE_LIMIT="3 per minute") as limited:
        yield limited


def test_rate_limit_per_ip_with_headers(limited_app):
    client = limited_app.test_client()
    first = client.get("/api/v1/taxonomies")
    assert first.status_code == 200
    assert first.headers["X-RateLimit-Limit"] == "3"
    assert first.headers["X-RateLimit-Remaining"] == "2"
    assert "X-RateLimit-Reset" in first.headers
    client.get("/api/v1/taxonomies")
    client.get("/api/v1/initiatives")
    blocked = client.get("/api/v1/taxonomies")
    assert blocked.status_code == 429
    assert blocked.mimetype == "application/problem+json"
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.headers["Access-Control-Allow-Origin"] == "*"
    other_ip = client.get("/api/v1/taxonomies", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_ip.status_code == 200


def test_themes_match_the_plain_rows(client, varied):
    """Every theme with its rules in their order; a rule's id is its 1-based position."""
    rows = oracle.load(_db.session)
    # no English texts in this data (tests/test_theme_english.py reads them back)
    no_english = {"title_en": "", "description_en": "", "ask_en": ""}
    expected = [{"id": t["id"], "area": t["area"], "title": t["title"],
                 "description": t["description"], "ask": t["ask"], **no_english,
                 "rules": [{"id": n, **r, "title_en": "", "existing_room_en": ""}
                           for n, r in enumerate(t["rules"], start=1)],
                 "url": f"http://localhost/api/v1/themes/{t['id']}"}
                for t in sorted(rows.themes, key=lambda t: t["id"])]
    assert client.get("/api/v1/themes").get_json()["data"] == expected
    assert any(len(t["rules"]) == 2 for t in expected)
    for theme in expected:
        assert client.get(theme["url"]).get_json() == theme
