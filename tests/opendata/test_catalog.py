"""The DCAT-AP-DONL catalogue (/api/v1/catalog, issue 21).

The catalogue is parsed as JSON-LD by rdflib and checked as RDF, by full IRIs: a wrong
prefix or term in the document would lose the triple and fail here. The mandatory properties
are those of DCAT-AP-DONL 1.1 (dcat-ap-donl.readthedocs.io, classes Dataset and
Distribution). Every URL the catalogue gives is requested with the test client; dates and
the snapshot come from plain SQL; personal data from the contact and user tables.
"""
from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS as DCT
from rdflib.namespace import FOAF, OWL, RDF
from sqlalchemy import text

from registry.extensions import db
from registry.published.snapshots import create_snapshot
from registry.summary import documents
from tests.exports import data

DCAT = Namespace("http://www.w3.org/ns/dcat#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SCHEMA = Namespace("http://schema.org/")
OVERHEID = Namespace("http://standaarden.overheid.nl/owms/terms/")
EDUCATION = OVERHEID["Onderwijs_en_wetenschap"]
DUTCH = URIRef("http://publications.europa.eu/resource/authority/language/NLD")
IANA = "https://www.iana.org/assignments/media-types/"

# DCAT-AP-DONL 1.1, mandatory (cardinality 1..n) for a Dataset and for a Distribution
DATASET_MANDATORY = (DCT.identifier, DCT.title, DCT.description, DCT.language, DCAT.theme,
                     DCT.modified, OVERHEID.authority, DCT.publisher, DCAT.contactPoint)
DISTRIBUTION_MANDATORY = (DCAT.accessURL, DCT.license, DCT.title, DCT.description,
                          DCT.language, DCT["format"])
# rdflib 7's JSON-LD parser still builds a ConjunctiveGraph internally
pytestmark = pytest.mark.filterwarnings(
    "ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


def _graph(body: bytes) -> Graph:
    return Graph().parse(data=body, format="json-ld")


def _one(graph: Graph, subject, predicate):
    values = list(graph.objects(subject, predicate))
    assert len(values) == 1, (subject, predicate, values)
    return values[0]


def _languages(graph: Graph, subject, predicate) -> set[str]:
    return {o.language for o in graph.objects(subject, predicate) if isinstance(o, Literal)}


def _sql_date(query: str) -> date:
    """A date from plain SQL (SQLite gives text, PostgreSQL a datetime)."""
    return date.fromisoformat(str(db.session.scalar(text(query)))[:10])


def _path(url: str, base: str) -> str:
    assert url.startswith(base.rstrip("/") + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def published(app, make_user):
    """The known data set, and a snapshot made by an advisor (whose e-mail is personal)."""
    site = data.build()
    advisor = make_user("advisor", email="advisor.geheim@example.org", name="Adviseur Geheim")
    snap = create_snapshot(note="Notitie voor adviseurs", actor=advisor)
    db.session.commit()
    return site, snap


def _catalog(client) -> Graph:
    response = client.get("/api/v1/catalog")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    return _graph(response.data)


def test_every_dataset_and_distribution_has_what_the_profile_requires(app, client, published):
    graph = _catalog(client)
    base = app.config["BASE_URL"]

    (catalog,) = graph.subjects(RDF.type, DCAT.Catalog)
    for predicate in (DCT.title, DCT.description, DCT.publisher, DCT.license, DCAT.dataset):
        assert (catalog, predicate, None) in graph, predicate
    assert _languages(graph, catalog, DCT.title) == {"nl", "en"}

    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert set(graph.objects(catalog, DCAT.dataset)) == datasets
    # four datasets, each with the latest snapshot as a version
    code = db.session.scalar(text("SELECT code FROM snapshot ORDER BY created_at DESC LIMIT 1"))
    versions = {d for d in datasets if (d, OWL.versionInfo, None) in graph}
    assert len(datasets) == 8
    assert len(versions) == 4
    assert {str(_one(graph, v, OWL.versionInfo)) for v in versions} == {code}

    first = _sql_date("SELECT min(published_at) FROM initiative WHERE state = 'published'")
    last = _sql_date("SELECT max(published_at) FROM initiative WHERE state = 'published'")
    assert (first, last) == (date(2026, 2, 10), date(2026, 8, 1))  # tests/exports/data.py
    for dataset in datasets:
        for predicate in DATASET_MANDATORY:
            assert (dataset, predicate, None) in graph, (dataset, predicate)
        assert str(_one(graph, dataset, DCT.identifier)) == str(dataset)
        assert _languages(graph, dataset, DCT.title) == {"nl", "en"}
        assert _languages(graph, dataset, DCT.description) == {"nl", "en"}
        assert set(graph.objects(dataset, DCAT.theme)) == {EDUCATION}
        assert DUTCH in set(graph.objects(dataset, DCT.language))
        assert _one(graph, dataset, DCT.spatial) == OVERHEID["Nederland"]
        assert (dataset, DCT.accrualPeriodicity, None) in graph
        point = _one(graph, dataset, DCAT.contactPoint)
        assert (point, VCARD.fn, None) in graph
        assert (point, VCARD.hasURL, None) in graph or (point, VCARD.hasEmail, None) in graph
        period = _one(graph, dataset, DCT.temporal)
        assert _one(graph, period, SCHEMA.startDate).toPython() == first
        assert _one(graph, period, SCHEMA.endDate).toPython() == last
        assert (dataset, DCAT.distribution, None) in graph
        if dataset in versions:
            live = _one(graph, dataset, DCT.isVersionOf)
            assert (live, DCT.hasVersion, dataset) in graph
            notes = {str(n) for n in graph.objects(dataset, ADMS.versionNotes)}
            assert any(f"{base}/knelpunten?snapshot={code}" in n for n in notes)

    # every distribution: the mandatory properties (its URLs: the next test)
    distributions = set(graph.subjects(RDF.type, DCAT.Distribution))
    assert distributions == set(graph.objects(None, DCAT.distribution))
    formats = {str(_one(graph, d, DCT["format"])).rsplit("/", 1)[1] for d in distributions}
    assert formats == {"CSV", "XLSX", "JSON", "GEOJSON", "DOCX", "PDF"}
    for dist in distributions:
        for predicate in DISTRIBUTION_MANDATORY:
            assert (dist, predicate, None) in graph, (dist, predicate)
        assert _languages(graph, dist, DCT.title) == {"nl", "en"}
        assert _one(graph, dist, DCAT.mediaType).startswith(IANA)
    service = next(graph.subjects(RDF.type, DCAT.DataService))
    assert str(_one(graph, service, DCAT.endpointDescription)) == f"{base}/api/v1/openapi.json"


def test_every_url_in_the_catalog_answers(app, client, published, database, monkeypatch):
    """Each distribution's URLs give 200 with the distribution's media type; the service,
    landing pages, documentation and schemas it links to answer too."""
    if database[0] != "sqlite":
        pytest.skip("the same routes on every database: requested once, on SQLite")
    # The summary's Word and PDF rendering takes seconds and is tested in tests/summary;
    # here its routes answer with a stand-in body and their own media type.
    monkeypatch.setattr(documents, "to_docx", lambda *args, **kwargs: b"docx")
    monkeypatch.setattr(documents, "to_pdf", lambda *args, **kwargs: b"%PDF-")
    graph = _catalog(client)
    base = app.config["BASE_URL"]
    code = db.session.scalar(text("SELECT code FROM snapshot"))
    checked: dict[str, tuple[int, str]] = {}
    for dist in graph.subjects(RDF.type, DCAT.Distribution):
        media = str(_one(graph, dist, DCAT.mediaType)).removeprefix(IANA)
        urls = {str(u) for p in (DCAT.accessURL, DCAT.downloadURL)
                for u in graph.objects(dist, p)}
        for url in urls:
            if url not in checked:
                reply = client.get(_path(url, base))
                checked[url] = (reply.status_code, reply.mimetype)
            assert checked[url] == (200, media), (url, checked[url])
    assert f"{base}/export/initiatieven.csv?snapshot={code}" in checked
    assert f"{base}/api/v1/statistics?snapshot={code}" in checked

    service = next(graph.subjects(RDF.type, DCAT.DataService))
    others = [_one(graph, service, DCAT.endpointURL),
              _one(graph, service, DCAT.endpointDescription),
              *graph.objects(None, DCAT.landingPage), *graph.objects(None, FOAF.page),
              *(u for u in graph.objects(None, DCT.conformsTo) if str(u).startswith(base))]
    for url in {str(u) for u in others} - set(checked):
        assert client.get(_path(url, base)).status_code == 200, url


def test_no_contact_data_and_settings_from_config(app, client, published):
    app.config.update(
        OPEN_DATA_LICENSE="http://creativecommons.org/publicdomain/zero/1.0/",
        OPEN_DATA_PUBLISHER_NAME="Ministerie van Onderwijs, Cultuur en Wetenschap",
        OPEN_DATA_PUBLISHER_URI="http://standaarden.overheid.nl/owms/terms/"
                                "Ministerie_van_Onderwijs,_Cultuur_en_Wetenschap",
        OPEN_DATA_CONTACT_NAME="Team open data", OPEN_DATA_CONTACT_EMAIL="opendata@example.nl")
    body = client.get("/api/v1/catalog").get_data(as_text=True)

    personal = [value for row in db.session.execute(text(
        "SELECT name, email, phone, role FROM contact UNION ALL "
        "SELECT name, email, NULL, NULL FROM user_account")) for value in row if value]
    assert "anne@example.org" in personal
    assert "advisor.geheim@example.org" in personal
    assert [value for value in personal if value in body] == []
    assert "Notitie voor adviseurs" not in body  # the snapshot note is for staff

    graph = _graph(body.encode())
    publisher = URIRef(app.config["OPEN_DATA_PUBLISHER_URI"])
    license_ = URIRef(app.config["OPEN_DATA_LICENSE"])
    subjects = (set(graph.subjects(RDF.type, DCAT.Dataset))
                | set(graph.subjects(RDF.type, DCAT.Distribution)))
    for subject in subjects:
        assert _one(graph, subject, DCT.license) == license_
    for dataset in graph.subjects(RDF.type, DCAT.Dataset):
        assert _one(graph, dataset, DCT.publisher) == publisher
        assert _one(graph, dataset, OVERHEID.authority) == publisher
        point = _one(graph, dataset, DCAT.contactPoint)
        assert str(_one(graph, point, VCARD.fn)) == "Team open data"
        assert _one(graph, point, VCARD.hasEmail) == URIRef("mailto:opendata@example.nl")
    assert str(_one(graph, publisher, FOAF.name)) == app.config["OPEN_DATA_PUBLISHER_NAME"]


def test_the_catalog_follows_the_public_data(app, client, published):
    """Cached per data version: a 304 while nothing changed, a new snapshot at once."""
    first = client.get("/api/v1/catalog")
    etag = first.headers["ETag"]
    assert client.get("/api/v1/catalog", headers={"If-None-Match": etag}).status_code == 304
    newer = create_snapshot(actor="cli")
    db.session.commit()
    second = client.get("/api/v1/catalog", headers={"If-None-Match": etag})
    assert second.status_code == 200
    graph = _graph(second.data)
    assert {str(v) for v in graph.objects(None, OWL.versionInfo)} == {newer.code}
