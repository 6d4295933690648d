"""Curated themes in English (issue 19), and the API docs page in one language.

A moderator writes optional English versions of a theme's title, description and ask and of
each rule's title and existing room on the theme form. Every place that shows those texts
shows the English one in the English interface, and otherwise the Dutch text inside an element
marked ``lang="nl"``; the Dutch interface always shows the Dutch text. What was stored is read
back with plain SQL; pages are read with an HTML parser, the pilot dossier as the XML inside
the DOCX.
"""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from lxml import etree
from lxml import html as lxml_html
from sqlalchemy import text

from registry.extensions import db
from registry.submissions.services import ObstacleData
from tests.factories import make_initiative
from tests.fixtures.auth import csrf_post

NL = {"title": "Examens alleen op vaste momenten",
      "description": "Lerenden moeten wachten op vaste examenmomenten.",
      "ask": "Sta examens op afroep toe in een pilot."}
EN = {"title_en": "Exams only at fixed moments",
      "description_en": "Learners have to wait for fixed exam moments.",
      "ask_en": "Allow exams on demand in a pilot."}
RULE_WITH = {"title": "Eindexamenbesluit VO", "title_en": "Final Examinations Decree",
             "existing_room": "Een experiment met flexibele examens.",
             "existing_room_en": "An experiment with flexible exams."}
RULE_WITHOUT = {"title": "Eigen examenreglement van de school",
                "existing_room": "De school kiest zelf haar examenmomenten."}
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _form(**extra) -> dict:
    data = {"area": "examineren", **NL, **EN, "action": "save",
            "rules-0-title": RULE_WITH["title"], "rules-0-title_en": RULE_WITH["title_en"],
            "rules-0-level": "amvb", "rules-0-source_url": "https://wetten.overheid.nl/x",
            "rules-0-existing_room": RULE_WITH["existing_room"],
            "rules-0-existing_room_en": RULE_WITH["existing_room_en"],
            "rules-1-title": RULE_WITHOUT["title"], "rules-1-level": "bestuur",
            "rules-1-existing_room": RULE_WITHOUT["existing_room"]}
    data.update(extra)
    return data


def _language_of(doc, needle: str) -> str:
    """The language a reader's software assumes for the element holding ``needle``: the
    nearest lang attribute up the tree."""
    hits = doc.xpath("//body//*[contains(text(), $t)]", t=needle)
    assert hits, f"{needle!r} is not on the page"
    langs = set()
    for el in hits:
        marked = el.xpath("ancestor-or-self::*[@lang][1]/@lang")
        langs.add(marked[0] if marked else "")
    assert len(langs) == 1, (needle, langs)
    return langs.pop()


@pytest.fixture
def theme_id(client, login):
    """A theme saved through the moderator's form, with a published report linked to it."""
    login(client, "moderator")
    entry = make_initiative(obstacles=[ObstacleData(area="examineren", title="Examens in juni",
                                                    severity=3, pilot_interest=True)])
    response = csrf_post(client, "/moderatie/themas/nieuw", _form())
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    (tid,) = db.session.execute(text("SELECT id FROM theme")).one()
    db.session.execute(text("UPDATE obstacle SET theme_id = :t WHERE initiative_id = :i"),
                       {"t": tid, "i": entry.id})
    db.session.execute(text("UPDATE data_version SET token = 'changed-by-the-test'"))
    db.session.commit()
    return tid


def test_the_form_stores_the_english_texts_and_shows_them_again(client, theme_id):
    row = db.session.execute(text(
        "SELECT title, title_en, description_en, ask_en FROM theme")).one()
    assert tuple(row) == (NL["title"], EN["title_en"], EN["description_en"], EN["ask_en"])
    rules = db.session.execute(text(
        "SELECT title, title_en, existing_room_en FROM theme_rule ORDER BY id")).all()
    assert [tuple(r) for r in rules] == [
        (RULE_WITH["title"], RULE_WITH["title_en"], RULE_WITH["existing_room_en"]),
        (RULE_WITHOUT["title"], "", "")]
    form = lxml_html.fromstring(client.get(f"/moderatie/themas/{theme_id}/bewerken").data)
    assert form.get_element_by_id("title_en").get("value") == EN["title_en"]
    assert form.get_element_by_id("ask_en").text_content().strip() == EN["ask_en"]
    assert form.get_element_by_id("rules-0-title_en").get("value") == RULE_WITH["title_en"]
    # the staff theme page says that not every text is in English yet (rule 2 is not)
    page = client.get(f"/moderatie/themas/{theme_id}").get_data(as_text=True)
    assert "data-theme-english-missing" in page


def test_english_readers_see_the_english_texts_or_the_dutch_ones_marked(client, theme_id):
    english = lxml_html.fromstring(client.get(f"/knelpunten/thema/{theme_id}?lang=en").data)
    for value in (EN["title_en"], EN["description_en"], EN["ask_en"], RULE_WITH["title_en"],
                  RULE_WITH["existing_room_en"]):
        assert _language_of(english, value) == "en", value
    for value in (RULE_WITHOUT["title"], RULE_WITHOUT["existing_room"]):
        assert _language_of(english, value) == "nl", value
    assert english.findtext(".//title").startswith(EN["title_en"])
    dutch = client.get(f"/knelpunten/thema/{theme_id}").get_data(as_text=True)
    assert NL["title"] in dutch
    assert NL["ask"] in dutch
    assert not any(value in dutch for value in (*EN.values(), RULE_WITH["title_en"]))

    summary = lxml_html.fromstring(client.get("/knelpunten?lang=en").data)
    assert _language_of(summary, EN["title_en"]) == "en"
    assert _language_of(summary, EN["ask_en"]) == "en"
    assert _language_of(summary, RULE_WITHOUT["title"]) == "nl"
    assert NL["title"] not in summary.text_content()

    index = lxml_html.fromstring(client.get("/knelpunten/thema/?lang=en").data)
    assert _language_of(index, EN["title_en"]) == "en"
    the_map = lxml_html.fromstring(client.get(f"/kaart?lang=en&theme={theme_id}").data)
    assert _language_of(the_map, EN["title_en"]) == "en"  # the theme filter


def test_the_api_and_the_export_carry_both_languages(client, theme_id):
    row = db.session.execute(text(
        "SELECT title, description, ask, title_en, description_en, ask_en FROM theme")).one()
    (theme,) = client.get("/api/v1/themes").get_json()["data"]
    assert [theme[k] for k in ("title", "description", "ask", "title_en", "description_en",
                               "ask_en")] == list(row)
    rules = db.session.execute(text(
        "SELECT title, existing_room, title_en, existing_room_en FROM theme_rule "
        "ORDER BY id")).all()
    assert [[r[k] for k in ("title", "existing_room", "title_en", "existing_room_en")]
            for r in theme["rules"]] == [list(r) for r in rules]
    body = client.get("/export/themas.csv").data.decode("utf-8-sig")
    (exported,) = list(csv.DictReader(io.StringIO(body)))
    assert (exported["titel"], exported["titel_en"], exported["beschrijving_en"]) == (
        row.title, row.title_en, row.description_en)


def test_the_english_pilot_dossier_marks_dutch_fallbacks(client, login, theme_id):
    login(client, "advisor")
    response = client.get(f"/knelpunten/thema/{theme_id}/pilotdossier.docx?lang=en")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as docx:
        body = etree.fromstring(docx.read("word/document.xml"))

    def runs_with(value: str) -> list:
        return [r for r in body.iter(f"{W}r")
                if value in "".join(t.text or "" for t in r.iter(f"{W}t"))]

    for value in (EN["ask_en"], EN["description_en"], RULE_WITH["title_en"]):
        assert runs_with(value), value
        assert all(not r.findall(f"{W}rPr/{W}lang") for r in runs_with(value)), value
    for value in (RULE_WITHOUT["title"], RULE_WITHOUT["existing_room"]):
        langs = {lang.get(f"{W}val") for r in runs_with(value)
                 for lang in r.findall(f"{W}rPr/{W}lang")}
        assert langs == {"nl-NL"}, value
    assert not runs_with(NL["ask"])


# --- the API docs page ----------------------------------------------------------------------

# common English words that are not Dutch words too ("in", "is", "of" are both)
ENGLISH_WORDS = {"the", "and", "with", "for", "only", "every", "when", "this", "from", "are",
                 "to", "or", "which", "each", "its"}
DUTCH_WORDS = {"de", "het", "een", "van", "en", "niet", "geen", "voor", "met", "zijn", "naar",
               "alle", "op", "bij", "alleen", "elke", "waarin", "dus"}


def _docs_words(client, lang: str) -> tuple[str, list[str]]:
    page = client.get(f"/api/v1/docs?lang={lang}").data
    doc = lxml_html.fromstring(page)
    main = doc.find(".//main")
    for el in main.xpath(".//code|.//*[@lang]"):
        el.drop_tree()
    visible = main.text_content()
    return visible, re.findall(r"[^\W\d_]+", visible.lower())


def test_the_api_docs_page_is_in_one_language_without_markup_or_regex(client):
    dutch_text, dutch = _docs_words(client, "nl")
    english_text, english = _docs_words(client, "en")
    assert "Sector van de school" in dutch_text
    assert "Sector of the school" in english_text
    assert not set(dutch) & ENGLISH_WORDS, sorted(set(dutch) & ENGLISH_WORDS)
    assert not set(english) & DUTCH_WORDS, sorted(set(english) & DUTCH_WORDS)
    for lang in ("nl", "en"):
        page = client.get(f"/api/v1/docs?lang={lang}").get_data(as_text=True)
        visible = lxml_html.fromstring(page).find(".//main").text_content()
        assert "`" not in visible  # backticks are shown as code
        assert "\\u202a" not in page
        assert "\\x00" not in page
        assert "<code>min_level</code>" in page


def test_the_openapi_document_is_english_whatever_the_reader_chose(client):
    documents = [client.get("/api/v1/openapi.json?lang=nl").get_json(),
                 client.get("/api/v1/openapi.json?lang=en").get_json(),
                 client.get("/api/v1/openapi.json",
                            headers={"Accept-Language": "nl"}).get_json()]
    assert documents[0] == documents[1] == documents[2]
    listing = documents[0]["paths"]["/initiatives"]["get"]
    assert listing["summary"] == "Published initiatives"
    words = re.findall(r"[^\W\d_]+", json.dumps(documents[0]["paths"]).lower())
    assert {"the", "of"} <= set(words)
    assert not {"de", "het", "een", "van"} & set(words)
