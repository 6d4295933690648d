"""The English interface has no Dutch left in it except user content (issue 19).

Every GET page is discovered from ``app.url_map`` (as tests/a11y/test_axe.py does, but with the
Flask test client: no browser, a few seconds), requested with ``?lang=en`` anonymously and as
an administrator (who sees every staff page) on the demo data set, and read with an HTML
parser. What is allowed to be Dutch is taken out before the check:

- everything inside an element whose ``lang`` is not English (``lang="nl"``: user content and
  curated texts without an English version, marked by the templates);
- text the users typed, as the database holds it (plain SQL over the columns listed in
  USER_TEXT: titles, descriptions, school names, places...). Curated theme texts are not
  among them: a theme or rule shown without its English version must be marked lang="nl".

The remaining visible text, and the texts a screen reader reads from attributes (title,
aria-label, placeholder, alt, button values), must not contain any of DUTCH_WORDS: common
Dutch words that are not English words (no "of", "is", "we", "over", "door", "per"...), plus
Dutch interface words of this registry ("kwalificeren" is left out: English texts quote
"lerend kwalificeren", the name of an mbo experiment).
"""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from lxml import html as lxml_html
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from registry.extensions import db
from tests.factories import sample_import_job

# Common Dutch words that are not (also) English words, and Dutch words of this interface.
DUTCH_WORDS = frozenset("""
de het een van en niet geen voor met zijn wordt worden werd naar alle bij deze dit die dat
ook nog uit aan tot heeft hebben kan kunnen moet moeten mag wat wie waar hoe wanneer welke
u uw wij ze zij hun mijn onze ons zonder tussen omdat maar dan meer minder nieuw nieuwe
terug alleen eigen hier daar nu zie ziet vul kies graag er op als wel nooit altijd
opslaan bekijken bekijk verwijderen bewerken wijzigen toevoegen toon zoek zoeken versturen
verstuur downloaden aanmelden afmelden inloggen uitloggen bevestigen annuleren volgende
vorige pagina kaart lijst overzicht cijfers knelpunt knelpunten initiatief initiatieven
scholen gebied gebieden thema regel regels bron kolom kolommen getal geheel tekst ja nee
datum aantal gemeente provincie ernst lerenden melding meldingen openbaar vertrouwelijk
gepubliceerd afgewezen ingetrokken samengevoegd wachtwoord beheer moderatie adres onderwijs
bericht berichten contactpersoon toelichting beschrijving samenvatting titel naam herkomst
vraag ruimte wet bestuur sectorafspraak toezicht momentopname momentopnamen fout gebruiker
gebruikers rol rollen rapport jaar maand vandaag gisteren optioneel verplicht leerling
leerlingen opgelost omzeild hindert vertraagt blokkeert tempo plaats samen instructie
toetsing doelen aanbod examineren diplomeren certificeren valideren overig
idee lopend opgeschaald gestopt decimaal
""".split())

# Columns whose values users typed (schools, moderators, senders): allowed in any language.
# Curated theme texts (theme, theme_rule) are deliberately absent (see the module docstring).
USER_TEXT = {
    "initiative": ("title", "summary", "description", "ict"),
    "organisation": ("name", "levels", "street", "city", "municipality", "website"),
    "obstacle": ("title", "description", "rule", "workaround", "policy_ask"),
    "contact": ("name", "role"),
    "contact_request": ("sender_name", "sender_school", "message"),
    "user_account": ("name",),
    "audit_event": ("actor_label", "reason"),
    "revision": ("reason",),
    "snapshot": ("note", "created_by_label"),
    "outbox_message": ("subject",),
}
# Curated theme texts: shown in English when the moderator wrote an English version, else
# marked lang="nl"; only a <title> (no markup possible) may hold them unmarked.
CURATED_TEXT = {"theme": ("title",), "theme_rule": ("title",)}

# Not pages: files, JSON, redirects (the a11y test keeps the same list for its own reasons).
NOT_PAGES = {"static", "maps.vendor", "public.set_language", "pow_challenge", "geo.schools",
             "exports.export", "summary.download", "manage.download", "manage.legacy_link",
             "pilots.dossier", "public.favicon"}
NOT_PAGE_PATTERN = re.compile(r"(^/api/v1/(?!docs)|\.(json|geojson|csv|xlsx|docx|pdf)$)")
# Public pages that show staff more (links, figures): also read as an administrator.
STAFF_EXTRAS = {"themes.theme", "summary.summary", "public.initiative", "public.initiatives",
                "maps.map"}
# Attributes whose text people read or hear.
READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt", "aria-description")
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def _texts_of(columns: dict[str, tuple[str, ...]]) -> list[str]:
    """Every value of ``columns`` (plain SQL), whole and per line, longest first."""
    found: set[str] = set()
    for table, names in columns.items():
        for column in names:
            query = text(f"SELECT {column} FROM {table}")  # noqa: S608 - names from constants
            for (value,) in db.session.execute(query):
                for part in [value or "", *str(value or "").splitlines()]:
                    part = " ".join(part.split())
                    if len(part) >= 3:
                        found.add(part)
    return sorted(found, key=len, reverse=True)


def visible_texts(page: bytes) -> list[tuple[str, bool]]:
    """(text, in a title element) for the page's text nodes and read attributes, without
    script, style and code, and without any element in another language than English;
    whitespace normalised. A ``<title>`` (of the page or of a chart) holds no markup, so it
    cannot mark a Dutch part: the caller allows curated texts there. A textarea holds a
    value being edited, not interface text."""
    doc = lxml_html.fromstring(page)
    for el in doc.xpath("//script|//style|//template|//code|//textarea"
                        "|//*[@lang and not(starts-with(translate(@lang,'EN','en'),'en'))]"):
        if el.getparent() is not None:
            el.drop_tree()
    texts = [(" ".join(node.split()), node.getparent().tag.rsplit("}", 1)[-1] == "title")
             for node in doc.xpath("//text()[not(ancestor::head) or parent::title]")]
    for attr in READ_ATTRIBUTES:
        texts.extend((el.get(attr), False) for el in doc.xpath(f"//*[@{attr}]"))
    texts.extend((el.get("value"), False) for el in doc.xpath(
        "//input[@type='submit' or @type='button'][@value]"))
    return [(t, title) for t, title in texts if t and t.strip()]


def _strip(node: str, allowed: list[str]) -> str:
    for value in allowed:
        if value in node:
            node = node.replace(value, " ")
    # a shortened text ("Lerenden bouwen een portfolio...") is that text too
    stripped = node.strip()
    if stripped.endswith(("...", "…")):
        head = stripped.rstrip(".… ")
        if len(head) >= 10 and any(value.startswith(head) for value in allowed):
            return ""
    return node


def dutch_in(page: bytes, user_texts: list[str], curated: list[str] = ()) -> list[str]:
    """'word: context' for each Dutch word left in the page's English interface text.
    ``user_texts`` are allowed anywhere, ``curated`` (theme texts) only in a title."""
    def dutch(text: str) -> list[str]:
        # an abbreviation in capitals ("EN 301 549") is not a Dutch word
        return [w for w in WORD.findall(text)
                if w.lower() in DUTCH_WORDS and not (w.isupper() and len(w) > 1)]

    found = []
    for node, in_title in visible_texts(page):
        if not dutch(node):
            continue
        rest = _strip(node, [*curated, *user_texts] if in_title else user_texts)
        found += [f"{word!r} in {rest.strip()[:160]!r}" for word in dutch(rest)]
    return found


def _seed(app, make_user) -> dict:
    """The demo data set plus what the other pages need: staff, a snapshot, a relayed
    message and a subscription (their private links come from the outbox)."""
    from registry.auth.services import set_password_token
    from registry.connect import services as connect
    from registry.manage.models import ManageToken
    from registry.manage.services import confirmation_token, issue_manage_link
    from registry.moderation.models import Theme
    from registry.published.snapshots import create_snapshot
    from registry.submissions.demo import seed_demo
    from registry.submissions.models import Initiative
    from registry.taxonomy.constants import InitiativeState

    seed_demo(count=40)
    db.session.commit()
    admin = make_user("admin", name="Ada Admin")
    admin.totp_secret = "JBSWY3DPEHPK3PXP"  # the code step of a login (test secret)
    advisor = make_user("advisor", name="Adri Adviseur", password=None)
    advisor.totp_pending_secret = "KRUGS4ZANFZSAYLTMVRXEZLU"
    published = db.session.scalars(db.select(Initiative).where(
        Initiative.state == InitiativeState.PUBLISHED).order_by(Initiative.id)).all()
    pending = db.session.scalars(db.select(Initiative).where(
        Initiative.state == InitiativeState.PENDING).order_by(Initiative.id)).first()
    theme = db.session.scalars(db.select(Theme).order_by(Theme.id)).first()
    entry = next(i for i in published if i.contact is not None)
    entry.contact.accepts_messages = True
    connect.relay_message(entry, connect.MessageData(
        sender_name="Bea Bakker", sender_email="bea@example.org",
        message="May we visit your school?", sender_school="Linden School"))
    connect.subscribe("follower@example.org", theme_ids=[theme.id], area_codes=["examineren"])
    manage_url = issue_manage_link(entry)
    snapshot = create_snapshot(note="Quarterly snapshot", actor=admin)
    import_job = sample_import_job()
    db.session.flush()
    manage_token_id = db.session.scalars(db.select(ManageToken.id).where(
        ManageToken.initiative_id == entry.id, ManageToken.revoked_at.is_(None))).one()
    samples = {
        "_default": {"initiative_id": entry.id, "other_id": pending.id, "theme_id": theme.id,
                     "name": "areas", "lang": "en", "dataset": "initiatieven", "fmt": "csv",
                     "job_id": import_job},
        "moderation.entry": {"initiative_id": pending.id},
        "moderation.edit": {"initiative_id": pending.id},
        "manage.confirm": {"token": confirmation_token(entry)},
        "auth.set_password": {"token": set_password_token(advisor)},
        "connect.opt_in": {"token": connect.opt_in_url(entry.contact).rsplit("/", 1)[1]},
    }
    db.session.commit()
    adapter = app.url_map.bind("localhost")
    for (body,) in db.session.execute(text("SELECT body_text FROM outbox_message")):
        for url in re.findall(r"https?://[^\s<>\"']+", body or ""):
            try:
                endpoint, values = adapter.match(urlsplit(url).path, method="GET")
            except HTTPException:
                continue
            samples.setdefault(endpoint, values)
    # Pages in another state than the bare URL: a snapshot, filters in words.
    filtered = [("summary.summary", f"/knelpunten?snapshot={snapshot.code}"),
                ("summary.summary", f"/knelpunten?theme={theme.id}&sector=mbo"),
                ("public.initiatives", "/initiatieven?sector=po&area=examineren&phase=lopend"
                                       "&dimension=tempo&min_level=2&q=leren"),
                ("maps.map", f"/kaart?theme={theme.id}&province=Utrecht"),
                ("exports.dictionary", f"/export/woordenboek?theme={theme.id}")]
    return {"samples": samples, "filtered": filtered, "admin": admin, "advisor": advisor,
            "manage_token_id": manage_token_id, "manage_url": manage_url}


def _targets(app, samples) -> list[tuple[str, str]]:
    with app.test_request_context():
        from flask import url_for

        out = []
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
                continue
            values = {k: v for k, v in samples["_default"].items() if k in rule.arguments}
            values.update(samples.get(rule.endpoint, {}))
            path = url_for(rule.endpoint, **values)
            if not NOT_PAGE_PATTERN.search(path):
                out.append((rule.endpoint, path))
    return out


def _english(path: str) -> str:
    return path + ("&" if "?" in path else "?") + "lang=en"


def test_english_pages_have_no_dutch_interface_text(app, database, make_user):
    if database[0] != "sqlite":
        pytest.skip("the pages are the same on every database: checked once, on SQLite")
    site = _seed(app, make_user)
    user_texts = _texts_of(USER_TEXT)
    curated = _texts_of(CURATED_TEXT)
    anonymous, staff, halfway = app.test_client(), app.test_client(), app.test_client()
    with staff.session_transaction() as session:
        session.update({"_user_id": site["admin"].get_id(), "_fresh": True,
                        "manage_token": site["manage_token_id"],
                        "submitted_reference": "GL-2026-00001"})
    with halfway.session_transaction() as session:  # between password and code / enrolment
        now = int(time.time())
        session.update({"totp_user": site["admin"].get_id(), "totp_started": now,
                        "totp_enrol_user": site["advisor"].get_id(),
                        "totp_enrol_started": now})
    problems, checked, unreachable = [], [], []
    for endpoint, path in _targets(app, site["samples"]) + site["filtered"]:
        pages = []
        for who, client in (("anonymous", anonymous), ("admin", staff),
                            ("logging in", halfway)):
            if pages and (who == "logging in" or endpoint not in STAFF_EXTRAS):
                break  # a public page once, unless staff see more on it
            response = client.get(_english(path))
            if response.status_code == 200 and response.mimetype == "text/html":
                pages.append((who, response.data))
        if not pages:
            unreachable.append(f"{endpoint} {path}")
        for who, page in pages:
            checked.append(endpoint)
            assert b'<html lang="en"' in page, f"{endpoint} ({who}) is not marked English"
            problems += [f"{endpoint} {path} ({who}): {hit}"
                         for hit in dutch_in(page, user_texts, curated)]
    # Error pages, an unknown filter value and forms sent back with their messages (422).
    for who, client, method, path, data in (
        ("anonymous", anonymous, "GET", "/bestaat-niet", None),
        ("anonymous", anonymous, "GET", "/initiatieven/999999", None),
        ("anonymous", anonymous, "GET", "/initiatieven?sector=onbekend", None),
        ("anonymous", anonymous, "POST", "/aanmelden", {"action": "submit"}),
        ("anonymous", anonymous, "POST", "/volgen", {}),
        ("anonymous", anonymous, "POST", "/login", {"email": "x"}),
        ("admin", staff, "POST", "/moderatie/themas/nieuw", {"action": "save"}),
        ("admin", staff, "GET", "/moderatie/themas/1/verwijderen", None),  # 405
    ):
        response = client.open(_english(path), method=method, data=data)
        assert response.status_code < 500, (path, response.status_code)
        if response.mimetype == "text/html":
            checked.append(path)
            problems += [f"{method} {path} ({who}, {response.status_code}): {hit}"
                         for hit in dutch_in(response.data, user_texts, curated)]
    print(f"checked {len(checked)} pages; no page for: {unreachable}")
    assert {"themes.theme", "summary.summary", "exports.dictionary", "api.docs",
            "moderation.theme", "moderation.theme_edit", "public.initiative"} <= set(checked)
    assert not problems, (f"{len(problems)} Dutch words in the English interface:\n"
                          + "\n".join(problems))


def test_the_checker_finds_dutch_and_allows_marked_or_typed_text():
    """The oracle itself: Dutch interface text is found; lang="nl" parts, user texts (also
    shortened), code, abbreviations and English words that look Dutch are not; a theme title
    is allowed in a title element only."""
    page = (b"<html lang='en'><head><title>Geen examens op maat - Theme</title></head><body>"
            b"<h1>Obstacles per theme</h1><p>Alle initiatieven</p>"
            b"<p lang='nl'>Het probleem van de examens</p><p>School: De Linde, Utrecht.</p>"
            b"<p>Lerenden bouwen een portfolio...</p><p>Theme: Geen examens op maat</p>"
            b"<button title='Opslaan'>Save</button><p>Is it over? Of course we do. EN 301 549"
            b"</p><p>Code: <code>omzeild</code></p>"
            b"<svg><title>Geen examens op maat: 4</title></svg>"
            b"<script>var x = 'de het een';</script></body></html>")
    hits = dutch_in(page, ["De Linde", "Lerenden bouwen een portfolio van bewijzen op"],
                    ["Geen examens op maat"])
    assert [h.split(" in ")[0] for h in hits] == ["'Alle'", "'initiatieven'", "'Geen'", "'op'",
                                                  "'Opslaan'"]
