"""The DCAT-AP-DONL catalogue and the Frictionless Data Package, built from what exists.

The builders are plain functions over a few facts (``Facts``: publication dates, the latest
snapshot), the settings (``Settings``: licence, publisher, contact point) and a function
that makes absolute URLs (``registry.urls.absolute_url``), so they are cheap to test.

Profile choices (DCAT-AP-DONL 1.1, https://dcat-ap-donl.readthedocs.io):

- every ``dcat:Dataset`` carries the mandatory properties: ``dct:identifier``, ``dct:title``
  and ``dct:description`` (Dutch and English, language-tagged), ``dct:language``,
  ``dcat:theme`` (the DONL taxonomy "Onderwijs en wetenschap"), ``dct:modified``,
  ``overheid:authority`` and ``dct:publisher`` (the configured publisher) and
  ``dcat:contactPoint`` (a ``vcard:Organization``: the registry, never a school's contact);
  and the recommended ones where known: ``dct:issued``, ``dcat:landingPage``, ``dct:spatial``
  (Nederland), ``dct:temporal`` (first to last publication date; left out while nothing is
  published, an empty period is invalid), ``dct:accessRights`` (public),
  ``dct:accrualPeriodicity``, ``dcat:keyword``, ``foaf:page`` (the data dictionary), and the
  latest snapshot as a version (``dct:hasVersion`` / ``dct:isVersionOf``,
  ``owl:versionInfo``, ``adms:versionNotes``);
- every ``dcat:Distribution`` carries ``dcat:accessURL``, ``dct:license``, ``dct:title``,
  ``dct:description``, ``dct:language`` and ``dct:format`` (EU file-type authority), and
  ``dcat:downloadURL`` for files, ``dcat:mediaType`` (IANA), ``dct:conformsTo`` (the Table
  Schemas of the Data Package for CSV, RFC 7946 for GeoJSON, the OpenAPI document for the
  API);
- the API is also a ``dcat:DataService`` whose ``dcat:endpointDescription`` is the OpenAPI
  document.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from registry.cache import NAME as DATA_VERSION_NAME
from registry.cache import DataVersion
from registry.database import as_utc, utcnow
from registry.exports import services as export_services
from registry.extensions import db
from registry.published.filters import InitiativeFilter
from registry.published.models import Snapshot
from registry.published.snapshots import list_snapshots
from registry.published.sources import PUBLISHED, SnapshotSource, Source
from registry.taxonomy.constants import LEVELS, OBSTACLE_STATUSES, SEVERITIES
from registry.taxonomy.services import Taxonomy

Text = tuple[str, str]  # (Dutch, English)
UrlFor = Callable[..., str]  # absolute_url(endpoint, **values)

# -- vocabularies --------------------------------------------------------------------------

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "adms": "http://www.w3.org/ns/adms#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "schema": "http://schema.org/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "overheid": "http://standaarden.overheid.nl/owms/terms/",
}
EU = "http://publications.europa.eu/resource/authority/"
LANGUAGES = {"nl": EU + "language/NLD", "en": EU + "language/ENG"}
# The DONL theme taxonomy (overheid:taxonomiebeleidsagenda) and the OWMS term for the country
THEME_EDUCATION = "http://standaarden.overheid.nl/owms/terms/Onderwijs_en_wetenschap"
SPATIAL_NETHERLANDS = "http://standaarden.overheid.nl/owms/terms/Nederland"
# Live data changes whenever an entry is published or changed; a snapshot never changes
FREQUENCY_LIVE = EU + "frequency/CONT"
FREQUENCY_SNAPSHOT = EU + "frequency/NEVER"
ACCESS_PUBLIC = EU + "access-right/PUBLIC"
FILE_TYPE = EU + "file-type/"
IANA = "https://www.iana.org/assignments/media-types/"
OPENAPI_SPEC = "https://spec.openapis.org/oas/v3.1.0"
GEOJSON_SPEC = "https://www.rfc-editor.org/rfc/rfc7946"
DATA_PACKAGE_SPEC = "https://specs.frictionlessdata.io/data-package/"

# Formats: media type (what the server sends), EU file-type code, what the file is; the
# summary's workbook ("summary-xlsx", /knelpunten/knelpuntenoverzicht.xlsx) holds other
# tables than the exports' workbook
FORMATS: dict[str, tuple[str, str, Text]] = {
    "csv": ("text/csv", "CSV", (
        "CSV (komma als scheidingsteken, UTF-8, vaste kolomnamen uit het "
        "gegevenswoordenboek); met ?sep=; een puntkomma voor Nederlandse Excel.",
        "CSV (comma separated, UTF-8, stable column names from the data dictionary); with "
        "?sep=; semicolon separated for Dutch Excel.")),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX", (
        "Excel-werkmap met alle datasets, het gegevenswoordenboek en de herkomst.",
        "Excel workbook with every dataset, the data dictionary and the provenance.")),
    "json": ("application/json", "JSON", (
        "JSON: {\"meta\": herkomst en filter, \"data\": rijen met de kolommen van het "
        "gegevenswoordenboek}.",
        "JSON: {\"meta\": provenance and filter, \"data\": rows with the columns of the "
        "data dictionary}.")),
    "geojson": ("application/geo+json", "GEOJSON", (
        "GeoJSON (RFC 7946): een punt per school, met dezelfde kolommen als eigenschappen.",
        "GeoJSON (RFC 7946): a point per school, with the same columns as properties.")),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "DOCX", ("Het knelpuntenoverzicht als Word-document.",
                      "The obstacle summary as a Word document.")),
    "pdf": ("application/pdf", "PDF", ("Het knelpuntenoverzicht als PDF.",
                                       "The obstacle summary as a PDF.")),
    "summary-xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "XLSX", ("De tabellen van het knelpuntenoverzicht als Excel-werkmap.",
                              "The tables of the obstacle summary as an Excel workbook.")),
}
API_TEXT: Text = (
    "Open JSON-API, alleen lezen, beschreven in het OpenAPI-document; lijsten zijn "
    "gepagineerd en te filteren zoals de kaart.",
    "Open JSON API, read-only, described in the OpenAPI document; lists are paginated and "
    "take the filters of the map.")


@dataclass(frozen=True)
class DatasetInfo:
    """A public dataset: its name in URLs, texts, and where its distributions are."""

    name: str
    title: Text
    description: Text
    keywords: tuple[Text, ...]
    landing: str  # endpoint of the page people read it on
    files: tuple[str, ...]  # keys of FORMATS
    api: str  # endpoint of the API resource
    api_snapshot: bool  # the API resource reads ?snapshot=

    def file_url(self, url: UrlFor, fmt: str, snapshot: str | None) -> str:
        if self.name in export_services.DATASET_NAMES:
            return url("exports.export", dataset=self.name, fmt=fmt, snapshot=snapshot)
        return url("summary.download", fmt=fmt.removeprefix("summary-"), snapshot=snapshot)


_KW_EDUCATION: Text = ("onderwijs", "education")
_KW_PERSONALISED: Text = ("gepersonaliseerd leren", "personalised learning")
DATASETS: tuple[DatasetInfo, ...] = (
    DatasetInfo(
        "initiatieven",
        ("Initiatieven volledig gepersonaliseerd leren",
         "Initiatives for fully personalised learning"),
        ("Scholen in Nederland met een initiatief voor volledig gepersonaliseerd leren: de "
         "school (instellingscode, sector, plaats en ligging), het initiatief, de acht "
         "dimensies van personalisering (nu en ambitie) en het aantal gemelde knelpunten. "
         "Eén rij per gepubliceerd initiatief. Zonder e-mailadressen of telefoonnummers; de "
         "naam van een contactpersoon alleen als die toestemming gaf voor publicatie.",
         "Schools in the Netherlands with an initiative for fully personalised learning: the "
         "school (institution code, sector, town and location), the initiative, the eight "
         "dimensions of personalisation (now and ambition) and the number of reported "
         "obstacles. One row per published initiative. Without e-mail addresses or phone "
         "numbers; the name of a contact person only when they consented to publication."),
        (_KW_PERSONALISED, _KW_EDUCATION, ("scholen", "schools"),
         ("onderwijsvernieuwing", "educational innovation")),
        "public.initiatives", ("csv", "xlsx", "json", "geojson"), "api.initiatives", False),
    DatasetInfo(
        "knelpunten",
        ("Knelpunten bij volledig gepersonaliseerd leren",
         "Obstacles to fully personalised learning"),
        ("De knelpunten die scholen melden bij kwalificeren, examineren, diplomeren, "
         "certificeren en valideren (en overige regels): gebied, regel, ernst, status, "
         "workaround, vraag aan beleid en het thema waarin moderatoren de melding indeelden. "
         "Eén rij per openbare melding.",
         "The obstacles schools report in qualifying, examinations, diplomas, certification "
         "and validation (and other rules): area, rule, severity, status, workaround, ask of "
         "policy and the theme moderators grouped the report into. One row per public "
         "report."),
        (_KW_PERSONALISED, _KW_EDUCATION, ("regelgeving", "regulation"),
         ("examinering", "examinations"), ("diplomering", "diplomas")),
        "summary.summary", ("csv", "xlsx", "json", "geojson"), "api.obstacles", False),
    DatasetInfo(
        "themas",
        ("Thema's van knelpunten bij gepersonaliseerd leren",
         "Themes of obstacles to personalised learning"),
        ("De thema's (knelpunten) waarin moderatoren de meldingen bundelen, met de regels "
         "erachter en hun herkomst, en per thema het aantal meldingen, initiatieven, scholen "
         "en lerenden per sector en provincie. Eén rij per thema.",
         "The themes moderators group the reports into, with the rules behind them and "
         "where those come from, and per theme the number of reports, initiatives, schools "
         "and learners per sector and province. One row per theme."),
        (_KW_PERSONALISED, _KW_EDUCATION, ("regelgeving", "regulation")),
        "summary.summary", ("csv", "xlsx", "json", "geojson"), "api.themes", False),
    DatasetInfo(
        "knelpuntenoverzicht",
        ("Knelpuntenoverzicht gepersonaliseerd leren",
         "Obstacle summary for personalised learning"),
        ("Het overzicht voor het gesprek met het ministerie van OCW: per gebied en thema het "
         "aantal initiatieven, scholen, lerenden, sectoren en provincies, de ernst en de "
         "regels en waar die vandaan komen. Vertrouwelijke meldingen tellen alleen mee in "
         "een landelijke tabel, onderdrukt bij kleine aantallen.",
         "The summary for the talks with the Ministry of Education (OCW): per area and theme "
         "the number of initiatives, schools, learners, sectors and provinces, the severity "
         "and the rules and where they come from. Confidential reports count only in a "
         "national table, suppressed for small numbers."),
        (_KW_PERSONALISED, _KW_EDUCATION, ("beleid", "policy"), ("statistiek", "statistics")),
        "summary.summary", ("docx", "pdf", "summary-xlsx"), "api.statistics", True),
)
CATALOG_TITLE: Text = ("Register gepersonaliseerd leren: open data",
                       "Personalised learning registry: open data")
CATALOG_DESCRIPTION: Text = (
    "Open data van het register van initiatieven voor volledig gepersonaliseerd leren in "
    "het Nederlandse onderwijs en de knelpunten die scholen daarbij tegenkomen in wet- en "
    "regelgeving. Alle downloads en de API bevatten alleen gepubliceerde gegevens, zonder "
    "contactgegevens.",
    "Open data of the registry of initiatives for fully personalised learning in Dutch "
    "education and the obstacles schools meet in laws and regulations. Every download and "
    "the API hold published data only, without contact details.")
API_TITLE: Text = ("Open data API van het register gepersonaliseerd leren",
                   "Open data API of the personalised learning registry")

# Licence URLs a Data Package names with their SPDX identifier
LICENSES = {
    "http://creativecommons.org/licenses/by/4.0/": ("CC-BY-4.0", "Creative Commons "
                                                    "Attribution 4.0 International"),
    "http://creativecommons.org/licenses/by-sa/4.0/": ("CC-BY-SA-4.0", "Creative Commons "
                                                       "Attribution-ShareAlike 4.0 "
                                                       "International"),
    "http://creativecommons.org/publicdomain/zero/1.0/": ("CC0-1.0", "CC0 1.0 Universal"),
    "http://opendatacommons.org/licenses/odbl/1.0/": ("ODbL-1.0", "Open Data Commons Open "
                                                      "Database License 1.0"),
}


# -- inputs --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """The configured licence, publisher and contact point (``OPEN_DATA_*``)."""

    license: str
    publisher_name: str
    publisher_uri: str
    contact_name: str
    contact_email: str
    contact_url: str

    @classmethod
    def from_config(cls, config: Any, url: UrlFor) -> Settings:
        name = config["OPEN_DATA_PUBLISHER_NAME"]
        return cls(license=config["OPEN_DATA_LICENSE"], publisher_name=name,
                   publisher_uri=config["OPEN_DATA_PUBLISHER_URI"] or url("public.home"),
                   contact_name=config["OPEN_DATA_CONTACT_NAME"] or name,
                   contact_email=config["OPEN_DATA_CONTACT_EMAIL"],
                   contact_url=url("public.about"))


@dataclass(frozen=True)
class Facts:
    """What the metadata says about one source's data."""

    first: date | None  # first publication date
    last: date | None  # last publication date
    changed: datetime  # last change of the public data (a snapshot: when it was made)
    snapshot: str | None = None  # code, for a snapshot
    created: date | None = None  # when the snapshot was made

    @property
    def modified(self) -> date:
        return self.changed.date()


def _as_date(value: datetime | date | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def publication_dates(src: Source) -> tuple[date | None, date | None]:
    """The first and last publication date of the source's initiatives."""
    published = src.col("published_at")
    first, last = db.session.execute(
        select(func.min(published), func.max(published))
        .select_from(src.select_from()).where(src.scope)).one()
    return _as_date(first), _as_date(last)


def live_facts() -> Facts:
    first, last = publication_dates(PUBLISHED)
    changed = db.session.scalar(select(DataVersion.changed_at)
                                .where(DataVersion.name == DATA_VERSION_NAME))
    return Facts(first, last, as_utc(changed) or utcnow())


def snapshot_facts(snapshot: Snapshot) -> Facts:
    first, last = publication_dates(SnapshotSource(snapshot))
    made = as_utc(snapshot.created_at) or utcnow()
    return Facts(first, last, made, snapshot=snapshot.code, created=made.date())


def latest_snapshot() -> Snapshot | None:
    snapshots = list_snapshots()
    return snapshots[0] if snapshots else None


# -- JSON-LD helpers -----------------------------------------------------------------------

def _texts(text: Text) -> list[dict[str, str]]:
    return [{"@value": text[0], "@language": "nl"}, {"@value": text[1], "@language": "en"}]


def _date(value: date) -> dict[str, str]:
    return {"@value": value.isoformat(), "@type": "xsd:date"}


def _ref(uri: str) -> dict[str, str]:
    return {"@id": uri}


def _agent(settings: Settings) -> dict[str, Any]:
    return {"@id": settings.publisher_uri, "@type": "foaf:Agent",
            "foaf:name": settings.publisher_name}


def _contact_point(settings: Settings) -> dict[str, Any]:
    """The registry's own contact point (never a school's contact)."""
    point: dict[str, Any] = {"@type": "vcard:Organization", "vcard:fn": settings.contact_name,
                             "vcard:hasURL": _ref(settings.contact_url)}
    if settings.contact_email:
        point["vcard:hasEmail"] = _ref("mailto:" + settings.contact_email)
    return point


# -- the catalogue -------------------------------------------------------------------------

class CatalogBuilder:
    """Builds the JSON-LD catalogue. ``catalog_url`` is the document's own URL: datasets and
    distributions are named by fragments of it."""

    def __init__(self, url: UrlFor, settings: Settings, live: Facts,
                 snapshot: Facts | None) -> None:
        self.url = url
        self.settings = settings
        self.live = live
        self.snapshot = snapshot
        self.catalog_url = url("opendata.catalog")
        self.service_id = url("api.index")

    def dataset_id(self, info: DatasetInfo, facts: Facts) -> str:
        suffix = f"-{facts.snapshot}" if facts.snapshot else ""
        return f"{self.catalog_url}#{info.name}{suffix}"

    def build(self) -> dict[str, Any]:
        datasets = []
        for info in DATASETS:
            live = self.dataset(info, self.live)
            datasets.append(live)
            if self.snapshot is not None:
                version = self.dataset(info, self.snapshot)
                live["dct:hasVersion"] = [_ref(version["@id"])]
                version["dct:isVersionOf"] = _ref(live["@id"])
                datasets.append(version)
        catalog: dict[str, Any] = {
            "@context": CONTEXT,
            "@id": self.catalog_url,
            "@type": "dcat:Catalog",
            "dct:title": _texts(CATALOG_TITLE),
            "dct:description": _texts(CATALOG_DESCRIPTION),
            "dct:publisher": _agent(self.settings),
            "dct:license": _ref(self.settings.license),
            "dct:language": [_ref(LANGUAGES["nl"]), _ref(LANGUAGES["en"])],
            "foaf:homepage": _ref(self.url("exports.dictionary")),
            "dct:modified": _date(self.live.modified),
            "dct:conformsTo": _ref("https://dcat-ap-donl.readthedocs.io/en/latest/"),
            "dcat:dataset": datasets,
            "dcat:service": [self.service()],
        }
        if self.live.first is not None:
            catalog["dct:issued"] = _date(self.live.first)
        return catalog

    def service(self) -> dict[str, Any]:
        """The API as a data service, described by its OpenAPI document."""
        return {
            "@id": self.service_id,
            "@type": "dcat:DataService",
            "dct:title": _texts(API_TITLE),
            "dct:description": _texts(API_TEXT),
            "dcat:endpointURL": _ref(self.service_id),
            "dcat:endpointDescription": _ref(self.url("api.openapi")),
            "dct:conformsTo": _ref(OPENAPI_SPEC),
            "dcat:landingPage": _ref(self.url("api.docs")),
            "dcat:servesDataset": [_ref(self.dataset_id(info, self.live))
                                   for info in DATASETS],
            "dct:license": _ref(self.settings.license),
            "dct:publisher": _agent(self.settings),
            "dcat:contactPoint": _contact_point(self.settings),
            "dcat:theme": [_ref(THEME_EDUCATION)],
        }

    def dataset(self, info: DatasetInfo, facts: Facts) -> dict[str, Any]:
        code = facts.snapshot
        identifier = self.dataset_id(info, facts)
        title, description = info.title, info.description
        if code is not None:
            title = (f"{title[0]} (momentopname {code})", f"{title[1]} (snapshot {code})")
        node: dict[str, Any] = {
            "@id": identifier,
            "@type": "dcat:Dataset",
            "dct:identifier": identifier,
            "dct:title": _texts(title),
            "dct:description": _texts(description),
            "dcat:keyword": [kw for pair in info.keywords for kw in _texts(pair)],
            "dct:language": [_ref(LANGUAGES["nl"])],
            "dcat:theme": [_ref(THEME_EDUCATION)],
            "dct:modified": _date(facts.modified),
            "overheid:authority": _agent(self.settings),
            "dct:publisher": _agent(self.settings),
            "dcat:contactPoint": _contact_point(self.settings),
            "dct:license": _ref(self.settings.license),
            "dct:accessRights": _ref(ACCESS_PUBLIC),
            "dct:accrualPeriodicity": _ref(FREQUENCY_SNAPSHOT if code else FREQUENCY_LIVE),
            "dct:spatial": [_ref(SPATIAL_NETHERLANDS)],
            # a snapshot's page is its citable summary (?snapshot=)
            "dcat:landingPage": _ref(self.url("summary.summary", snapshot=code) if code
                                     else self.url(info.landing)),
            "foaf:page": [_ref(self.url("exports.dictionary", snapshot=code) + f"#{info.name}"
                               if info.name in export_services.DATASET_NAMES
                               else self.url("summary.summary", snapshot=code))],
            "dcat:distribution": self.distributions(info, facts),
        }
        issued = facts.created or facts.first
        if issued is not None:
            node["dct:issued"] = _date(issued)
        if facts.first is not None and facts.last is not None:
            node["dct:temporal"] = {
                "@type": "dct:PeriodOfTime",
                # DCAT-AP 1.1 / DONL 1.1 and DCAT 2 name the ends differently: both
                "schema:startDate": _date(facts.first), "schema:endDate": _date(facts.last),
                "dcat:startDate": _date(facts.first), "dcat:endDate": _date(facts.last),
            }
        if code is not None and facts.created is not None:
            node["owl:versionInfo"] = code
            day = facts.created.isoformat()
            cite = self.url("summary.summary", snapshot=code)
            node["adms:versionNotes"] = _texts((
                f"Momentopname {code} van {day}: de gepubliceerde gegevens van dat moment, "
                f"bevroren zodat cijfers later te herleiden zijn. Citeerbaar als {cite}. "
                "Wat een school later intrekt of vertrouwelijk maakt, verdwijnt ook uit de "
                "momentopname.",
                f"Snapshot {code} of {day}: the published data of that moment, frozen so "
                f"that figures can be traced later. Cite it as {cite}. What a school "
                "withdraws or makes confidential later also leaves the snapshot."))
        return node

    def distributions(self, info: DatasetInfo, facts: Facts) -> list[dict[str, Any]]:
        code = facts.snapshot
        base = self.dataset_id(info, facts)
        out = []
        for fmt in info.files:
            media, file_type, text = FORMATS[fmt]
            link = info.file_url(self.url, fmt, code)
            node = self._distribution(f"{base}-{fmt}", info, file_type, text, link, media)
            node["dcat:downloadURL"] = _ref(link)
            if fmt == "csv":
                node["dct:conformsTo"] = _ref(self.url("opendata.datapackage", snapshot=code))
            elif fmt == "geojson":
                node["dct:conformsTo"] = _ref(GEOJSON_SPEC)
            out.append(node)
        if code is None or info.api_snapshot:
            link = self.url(info.api, snapshot=code)
            node = self._distribution(f"{base}-api", info, "JSON", API_TEXT, link,
                                      "application/json", label="API")
            node["dct:conformsTo"] = _ref(self.url("api.openapi"))
            node["foaf:page"] = [_ref(self.url("api.docs"))]
            node["dcat:accessService"] = _ref(self.service_id)
            out.append(node)
        return out

    def _distribution(self, identifier: str, info: DatasetInfo, file_type: str, text: Text,
                      link: str, media: str, *, label: str | None = None) -> dict[str, Any]:
        label = label or file_type
        return {
            "@id": identifier,
            "@type": "dcat:Distribution",
            "dct:title": _texts((f"{info.title[0]} ({label})", f"{info.title[1]} ({label})")),
            "dct:description": _texts(text),
            "dcat:accessURL": _ref(link),
            "dcat:mediaType": _ref(IANA + media),
            "dct:format": _ref(FILE_TYPE + file_type),
            "dct:license": _ref(self.settings.license),
            "dct:language": [_ref(LANGUAGES["nl"])],
        }


def build_catalog(url: UrlFor, settings: Settings) -> dict[str, Any]:
    """The catalogue of the live data and the latest snapshot."""
    snapshot = latest_snapshot()
    return CatalogBuilder(url, settings, live_facts(),
                          snapshot_facts(snapshot) if snapshot is not None else None).build()


# -- the Data Package ----------------------------------------------------------------------

# Table Schema types of the dictionary's column types
FIELD_TYPES = {
    export_services.TEXT: "string", export_services.INT: "integer",
    export_services.FLOAT: "number", export_services.DATE: "date",
    export_services.DATETIME: "datetime",
    # a URL column may hold several links separated by spaces (themas.bronnen)
    export_services.URL: "string",
}
# The key of each CSV file, and the references between them
PRIMARY_KEYS = {"initiatieven": "initiatief_id", "knelpunten": "knelpunt_id",
                "themas": "thema_id"}
FOREIGN_KEYS = {"knelpunten": (("initiatief_id", "initiatieven"), ("thema_id", "themas"))}
# Columns that always hold a value besides the keys: every report belongs to an initiative
REQUIRED = {"knelpunten": ("initiatief_id",)}
RESOURCE_TEXTS: dict[str, tuple[Text, Text]] = {
    info.name: (info.title, info.description) for info in DATASETS}


def field_constraints(tax: Taxonomy) -> dict[str, dict[str, Any]]:
    """Constraints of the coded columns, from the vocabularies themselves: the taxonomy (the
    codes of sectors, phases and areas), the obstacle statuses, the severities and the
    dimension levels."""
    levels = {"minimum": min(LEVELS), "maximum": max(LEVELS)}
    out: dict[str, dict[str, Any]] = {
        "sector": {"enum": tax.codes("sectors")},
        "fase": {"enum": tax.codes("phases")},
        "gebied": {"enum": tax.codes("areas")},
        "status": {"enum": list(OBSTACLE_STATUSES)},
        "ernst": {"minimum": min(SEVERITIES), "maximum": max(SEVERITIES)},
    }
    for code in tax.codes("dimensions"):
        out[f"dimensie_{code}_nu"] = levels
        out[f"dimensie_{code}_ambitie"] = levels
    return out


def table_schema(dataset: str, columns: list[export_services.Column],
                 constraints: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A Table Schema of one CSV file: the dictionary's columns in file order, Dutch titles
    and descriptions (English in ``x-title-en`` / ``x-description-en``)."""
    key = PRIMARY_KEYS[dataset]
    references = dict(FOREIGN_KEYS.get(dataset, ()))
    fields = []
    for col in columns:
        field: dict[str, Any] = {
            "name": col.name, "type": FIELD_TYPES[col.type], "title": col.label_nl,
            "description": export_services.plain(col.description_nl),
            "x-title-en": col.label_en,
            "x-description-en": export_services.plain(col.description_en),
        }
        if col.type == export_services.DATE:
            field["format"] = "default"  # ISO 8601, YYYY-MM-DD
        rules = dict(constraints.get(col.name, {}))
        if col.name == key:
            rules.update(required=True, unique=True)
        elif col.name in REQUIRED.get(dataset, ()):
            rules["required"] = True
        if rules:
            field["constraints"] = rules
        fields.append(field)
    schema: dict[str, Any] = {"fields": fields, "primaryKey": [key],
                              "missingValues": [""]}
    if references:
        schema["foreignKeys"] = [
            {"fields": [name], "reference": {"resource": target,
                                             "fields": [PRIMARY_KEYS[target]]}}
            for name, target in references.items()]
    return schema


def _license(uri: str) -> dict[str, str]:
    normal = uri.replace("https://", "http://", 1).split("deed.")[0]
    normal = normal if normal.endswith("/") else normal + "/"
    known = LICENSES.get(normal)
    if known is None:
        return {"path": uri, "title": uri}
    return {"name": known[0], "path": uri, "title": known[1]}


def build_datapackage(url: UrlFor, settings: Settings, tax: Taxonomy, facts: Facts,
                      flt: InitiativeFilter) -> dict[str, Any]:
    """The Data Package (v1) of the CSV exports of live data or of one snapshot, under the
    export filter ``flt``: the files of one selection reference each other, as the
    unfiltered ones do."""
    code = facts.snapshot
    args = {**flt.to_args(), "snapshot": code}
    suffix = ((f" (momentopname {code})", f" (snapshot {code})") if code else ("", ""))
    if not flt.is_empty():
        suffix = (f"{suffix[0]} [filter: {flt.describe()}]",
                  f"{suffix[1]} [filter: {flt.describe()}]")
    datasets = export_services.datasets(tax)
    constraints = field_constraints(tax)
    resources = []
    for name, columns in datasets.items():
        (title, description) = RESOURCE_TEXTS[name]
        resources.append({
            "name": name,
            "path": url("exports.export", dataset=name, fmt="csv", **args),
            "profile": "tabular-data-resource",
            "title": title[0], "description": description[0],
            "x-title-en": title[1], "x-description-en": description[1],
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "quoteChar": '"',
                        "doubleQuote": True, "header": True},
            "schema": table_schema(name, columns, constraints),
        })
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": "register-gepersonaliseerd-leren",
        "id": url("opendata.datapackage", **args),
        "title": CATALOG_TITLE[0] + suffix[0],
        "description": CATALOG_DESCRIPTION[0],
        "x-title-en": CATALOG_TITLE[1] + suffix[1],
        "x-description-en": CATALOG_DESCRIPTION[1],
        "homepage": url("exports.dictionary", **args),
        "version": code or facts.modified.isoformat(),
        "created": facts.changed.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "keywords": [kw[0] for kw in DATASETS[0].keywords],
        "licenses": [_license(settings.license)],
        "sources": [{"title": settings.publisher_name, "path": url("public.home")}],
        "contributors": [{"title": settings.publisher_name, "path": settings.publisher_uri,
                          "role": "publisher"}],
        "resources": resources,
    }
    return package
