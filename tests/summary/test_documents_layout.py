"""The summary documents as a reader gets them (issue 18): the PDF fits A4 (every piece of text
inside the page, start and end), is tagged, opens with the key message and has a table of
contents and running header/footer; the DOCX is A4 with built-in headings and a TOC field;
the XLSX has Dutch headers and numbers as numbers; the filter is given in words everywhere;
chart labels are never cut off."""
from __future__ import annotations

import html as html_lib
import io
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from docx import Document
from docx.oxml.ns import qn
from pypdf import PdfReader
from pypdf.generic import ContentStream
from sqlalchemy import select

from registry.extensions import db
from registry.moderation.models import Theme, ThemeRule
from registry.published.filters import InitiativeFilter
from registry.published.snapshots import create_snapshot
from registry.published.sources import PUBLISHED
from registry.submissions.services import ObstacleData
from registry.summary.services import compute_summary
from tests.exports import data as testdata
from tests.factories import make_initiative
from tests.summary import oracle
from tests.summary.oracle import Args
from tests.summary.varied import build_varied

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "summary"
A4 = (595.28, 841.89)  # points
MARGIN = 36  # no text closer than half an inch to the left or right edge (CSS margin 1.8 cm)
LONG_WORD = "Onderwijstijdbekostigingsvoorwaardenregelingswijzigingsbesluit"
LONG_TITLE = ("Examens, diploma's en certificaten alleen op vaste momenten in het schooljaar "
              "en nooit tussendoor, ook niet voor wie eerder klaar is " + LONG_WORD)
COUNT_HEADERS = {"Initiatieven", "Scholen", "Lerenden", "Meldingen", "Ernst 1", "Ernst 2",
                 "Ernst 3", "Ernst 4", "Omzeild", "Opgelost", "Thema's", "Waarvan gemengd",
                 "Waarvan vertrouwelijk", "Aantal", "Gepubliceerde initiatieven",
                 "Gemelde knelpunten", "Rang", "Thema-id", "Aandeel ernst 3 en 4 (%)",
                 "Aantal sectoren", "Aantal provincies",
                 "Verandering scholen sinds vorige momentopname"}


# --- reading text positions from a PDF --------------------------------------------------------

def _mul(m: list[float], n: list[float]) -> list[float]:
    """m x n for PDF matrices [a b c d e f]."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return [a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u]


def _widths(font) -> tuple[dict[int, float], float, int]:
    """Glyph widths (1/1000 em) of a font by code, the default width, bytes per code."""
    font = font.get_object()
    if font.get("/Subtype") == "/Type0":
        cid = font["/DescendantFonts"][0].get_object()
        widths: dict[int, float] = {}
        w = list(cid.get("/W", []))
        i = 0
        while i < len(w):
            first = int(w[i])
            if isinstance(w[i + 1].get_object(), list):
                for k, value in enumerate(w[i + 1].get_object()):
                    widths[first + k] = float(value)
                i += 2
            else:
                for code in range(first, int(w[i + 1]) + 1):
                    widths[code] = float(w[i + 2])
                i += 3
        return widths, float(cid.get("/DW", 1000)), 2
    first = int(font.get("/FirstChar", 0))
    return ({first + k: float(v) for k, v in enumerate(font.get("/Widths", []))},
            float(font.get("/MissingWidth", 0)), 1)


def text_runs(reader: PdfReader) -> list[dict[str, Any]]:
    """Every shown string of every page with its start and end x and its y in page space:
    a small interpreter of the text and graphics state operators (q/Q/cm, BT/Tf/Tm/Td/TD/T*,
    Tc/Tw/Tz/TL/Ts, Tj/TJ/'/"), recursing into form XObjects."""
    runs: list[dict[str, Any]] = []

    def walk(page_no: int, stream, resources, ctm: list[float], box) -> None:
        fonts = resources.get("/Font", {}) if resources else {}
        xobjects = resources.get("/XObject", {}) if resources else {}
        stack: list[tuple] = []
        state = {"font": None, "size": 0.0, "Tc": 0.0, "Tw": 0.0, "Tz": 100.0, "TL": 0.0}
        tm = tlm = [1.0, 0, 0, 1.0, 0, 0]
        for operands, op in ContentStream(stream, reader).operations:
            if op == b"q":
                stack.append((list(ctm), dict(state)))
            elif op == b"Q":
                ctm, state = stack.pop()
            elif op == b"cm":
                ctm = _mul([float(v) for v in operands], ctm)
            elif op == b"BT":
                tm = tlm = [1.0, 0, 0, 1.0, 0, 0]
            elif op == b"Tf":
                state["font"] = _widths(fonts[operands[0]])
                state["size"] = float(operands[1])
            elif op in (b"Tc", b"Tw", b"Tz", b"TL"):
                state[op.decode()] = float(operands[0])
            elif op == b"Tm":
                tm = tlm = [float(v) for v in operands]
            elif op in (b"Td", b"TD"):
                tx, ty = float(operands[0]), float(operands[1])
                if op == b"TD":
                    state["TL"] = -ty
                tm = tlm = _mul([1, 0, 0, 1, tx, ty], tlm)
            elif op in (b"T*", b"'", b'"'):
                tm = tlm = _mul([1, 0, 0, 1, 0, -state["TL"]], tlm)
            if op in (b"Tj", b"TJ", b"'", b'"'):
                items = operands[0] if op == b"TJ" else [operands[-1]]
                widths, default, nbytes = state["font"]
                size, scale = state["size"], state["Tz"] / 100
                advance = 0.0
                for item in items:
                    if isinstance(item, bytes | str) or hasattr(item, "original_bytes"):
                        raw = item.original_bytes if hasattr(item, "original_bytes") else item
                        for k in range(0, len(raw), nbytes):
                            code = int.from_bytes(raw[k:k + nbytes], "big")
                            advance += (widths.get(code, default) / 1000 * size
                                        + state["Tc"]) * scale
                    else:
                        advance -= float(item) / 1000 * size * scale
                render = _mul(tm, ctm)
                end = _mul(_mul([1, 0, 0, 1, advance, 0], tm), ctm)
                runs.append({"page": page_no, "box": box, "x0": min(render[4], end[4]),
                             "x1": max(render[4], end[4]), "y": render[5]})
                tm = _mul([1, 0, 0, 1, advance, 0], tm)
            elif op == b"Do" and operands[0] in xobjects:
                form = xobjects[operands[0]].get_object()
                if form.get("/Subtype") == "/Form":
                    matrix = [float(v) for v in form.get("/Matrix", [1, 0, 0, 1, 0, 0])]
                    walk(page_no, form, form.get("/Resources"), _mul(matrix, ctm), box)

    for number, page in enumerate(reader.pages):
        box = (float(page.mediabox.width), float(page.mediabox.height))
        walk(number, page.get_contents(), page.get("/Resources"), [1.0, 0, 0, 1.0, 0, 0], box)
    return runs


def structure(tree) -> tuple[Counter[str], list[str]]:
    """The structure types of a tagged PDF's tree, and the alternative text of its figures."""
    kinds: Counter[str] = Counter()
    alts: list[str] = []

    def walk(node) -> None:
        node = node.get_object()
        if isinstance(node, dict):
            if "/S" in node:
                kinds[str(node["/S"])] += 1
                if node["/S"] == "/Figure":
                    alts.append(str(node.get("/Alt", "")))
            children = node.get("/K")
            if children is not None:
                for child in children if isinstance(children, list) else [children]:
                    if hasattr(child, "get_object"):
                        walk(child)

    walk(tree)
    return kinds, alts


def pdf_pages_text(data: bytes) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages]


# --- data -------------------------------------------------------------------------------

def build_stress() -> list[Theme]:
    """The varied data set plus what strains a layout: a very long theme title with a word
    longer than a table column, long rules and room, an ask, schools in every province."""
    themes = build_varied(random.Random(18), count=90)
    long = themes[0]
    long.title = LONG_TITLE
    long.ask = "Sta examens op elk moment toe voor lerenden die aantoonbaar klaar zijn."
    long.rules.append(ThemeRule(
        title="Eindexamenbesluit VO artikel 37 en de bijbehorende regeling tijdvakken " * 2,
        level="ministeriele_regeling", source_url="https://wetten.overheid.nl/BWBR0004593",
        existing_room="Experimentenregeling flexibel examineren; " + LONG_WORD))
    make_initiative(commit=False, school_name="Regionaal Opleidingscentrum " + LONG_WORD,
                    title="Versneld diplomeren " + LONG_WORD, sector="mbo",
                    obstacles=[ObstacleData(area="examineren", title="Vaste examenmomenten",
                                            severity=4, rule="Eindexamenbesluit")])
    db.session.commit()
    return themes


def summary_of(**args: Any) -> dict[str, Any]:
    from werkzeug.datastructures import MultiDict

    return compute_summary(InitiativeFilter.from_args(MultiDict(args)), PUBLISHED)


def download(client, fmt: str, query: str = "") -> bytes:
    response = client.get(f"/knelpunten/knelpuntenoverzicht.{fmt}" + (f"?{query}" if query
                                                                       else ""))
    assert response.status_code == 200, response.status_code
    return response.data


# --- PDF ----------------------------------------------------------------------------------

def test_pdf_text_stays_inside_the_page(client, app):
    """No column past the right edge, no label cut at the left: every string of every page
    starts and ends inside the page, at least half an inch from the left and right edge, on
    portrait A4 pages and on the landscape pages of the wide tables."""
    build_stress()
    data = download(client, "pdf")
    reader = PdfReader(io.BytesIO(data))
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height)))
             for p in reader.pages}
    assert sizes <= {(595, 842), (842, 595)}, sizes  # A4, portrait or landscape
    assert (842, 595) in sizes  # the annex and the theme table are on landscape pages
    runs = text_runs(reader)
    assert len(runs) > 500
    outside = [r for r in runs
               if r["x0"] < MARGIN - 0.5 or r["x1"] > r["box"][0] - MARGIN + 0.5
               or not 0 <= r["y"] <= r["box"][1]]
    assert not outside, outside[:5]
    text = " ".join(pdf_pages_text(data))
    assert LONG_WORD[:20] in text.replace("-", "").replace(" ", "")  # wrapped, not lost


def test_pdf_is_tagged_and_opens_with_the_key_message(client, app):
    testdata.build()
    snapshot = create_snapshot()
    db.session.commit()
    theme = db.session.scalars(select(Theme).where(Theme.title == "Vaste examenmomenten")).one()
    theme.ask = "Sta examens op elk moment toe."
    newcomer = make_initiative(sector="vo", commit=False, obstacles=[
        ObstacleData(area="examineren", title="Juni", severity=3)])
    newcomer.organisation.brin = "99ZZ"  # one more school in the theme since the snapshot
    newcomer.obstacles[0].theme_id = theme.id
    db.session.commit()
    summary = summary_of()
    top = summary["key_message"]["themes"][0]
    assert top["title"] == "Vaste examenmomenten"
    assert top["schools_change"] == 1

    data = download(client, "pdf")
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) is True
    assert "/StructTreeRoot" in root
    kinds, figures = structure(root["/StructTreeRoot"])
    for kind in ("/H1", "/H2", "/Table", "/TH", "/L", "/Link"):
        assert kinds[kind], kind
    assert len(figures) >= 4  # the charts, each with its title and values as alternative text
    assert all(alt and ": " in alt for alt in figures), figures
    assert str(root.get("/Lang", "")).startswith("nl")
    assert reader.metadata.title == "Knelpuntenoverzicht gepersonaliseerd leren"

    pages = pdf_pages_text(data)
    cover = pages[0]
    assert "Kernboodschap" in cover
    assert top["title"] in cover  # the key message is on page 1
    assert "Sta examens op elk moment toe." in cover
    assert f"+1 sinds momentopname {snapshot.code}" in cover
    figures = summary["key_message"]["figures"]
    for key in ("initiatives", "schools", "learners", "reports", "themes"):
        assert str(figures[key]) in cover
    assert "(AMvB)" in cover  # the origin of each rule
    assert "(Wet)" in cover
    n = len(pages)
    for number, text in enumerate(pages, start=1):
        assert f"pagina {number} van {n}" in text
        assert "Selectie: alle initiatieven." in text  # the footer, in words
    assert pages[1].startswith("Inhoud ")
    toc = re.findall(r"([A-Z][^.]+?) \.{3,} ?(\d+)", pages[1].removeprefix("Inhoud "))
    assert len(toc) >= 10
    for title, page in toc:  # each entry points at the page that starts with its heading
        assert title.strip()[:20] in pages[int(page) - 1], (title, page)
    assert "Actuele gegevens, stand van" in pages[1]  # the running header


def test_tables_have_their_total_as_the_last_row_not_a_repeating_footer():
    """A tfoot repeats at every page break in WeasyPrint ("Totaal" mid-table)."""
    for name in ("_body.html", "_charts.html", "report.html", "_key_message.html",
                 "summary.html"):
        assert "<tfoot" not in (TEMPLATES / name).read_text(encoding="utf-8"), name


# --- the page -----------------------------------------------------------------------------

def test_page_chart_labels_are_whole_and_themes_link_to_their_page(client, app):
    build_stress()
    html = client.get("/knelpunten").get_data(as_text=True)
    summary = summary_of()
    figure = html[html.index('id="chart-themes"'):]
    figure = figure[:figure.index("</figure>")]
    labels = re.findall(r'<text x="0"[^>]*>(.*?)</text>', figure)
    shown = [" ".join(re.findall(r"<tspan[^>]*>(.*?)</tspan>", label)) for label in labels]
    titles = [t["title"] for t in summary["themes"]]
    # every title whole and in order (a word longer than a line is split over two)
    assert ["".join(html_lib.unescape(s).split()) for s in shown] == [
        "".join(t.split()) for t in titles]
    for line in re.findall(r"<tspan[^>]*>(.*?)</tspan>", figure):
        assert len(html_lib.unescape(line)) <= 30  # fits the 250-unit label area
    assert 'text-anchor="end"' not in html  # anchored at its end, a label lost its start
    for theme in summary["key_message"]["themes"] + summary["themes"]:
        assert f'href="/knelpunten/thema/{theme["id"]}"' in html
    assert "Kernboodschap" in html[:html.index('id="gebieden"')]  # the key message first
    # origins: grouped, what a bar counts, mixed themes marked
    assert "telt mee bij elke herkomst van de regels van haar thema" in html
    assert "(gemengd)" in html
    for group in ("Wet- en regelgeving", "Toezicht en sector", "School en bestuur"):
        assert group in html


def test_origin_rows_equal_the_oracle_on_page_docx_and_xlsx(client, app):
    build_stress()
    expected = oracle.summary(oracle.load(db.session), Args())["origins"]
    tables = oracle.html_tables(client.get("/knelpunten").get_data(as_text=True))
    rows = [r for r in tables["Naar herkomst van de regels"][1:] if len(r) > 1]
    assert [r[1:] for r in rows] == [[str(o["themes"]), str(o["mixed_themes"]),
                                      *oracle.count_cells(o)] for o in expected]
    doc = Document(io.BytesIO(download(client, "docx")))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Herkomst")
    body = [[c.text for c in row.cells] for row in table.rows[1:]]
    body = [r for r in body if r[1] != r[0]]  # the group rows span the table
    assert [r[1:] for r in body] == [[str(o["themes"]), str(o["mixed_themes"]),
                                      *oracle.count_cells(o)] for o in expected]


# --- DOCX ---------------------------------------------------------------------------------

def test_docx_is_a4_with_headings_and_a_table_of_contents(client, app):
    testdata.build()
    data = download(client, "docx", "province=Gelderland&sector=mbo")
    doc = Document(io.BytesIO(data))
    first = doc.sections[0]
    assert (first.page_width.twips, first.page_height.twips) == (11906, 16838)  # A4
    for section in doc.sections:  # portrait or landscape, always A4
        assert sorted([section.page_width.twips, section.page_height.twips]) == [11906, 16838]
        assert section.left_margin.cm == pytest.approx(2, abs=0.01)
    styles = [p.style.name for p in doc.paragraphs]
    assert styles[0] == "Title"
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings[0] == "Kernboodschap: de knelpunten die de meeste scholen raken"
    assert headings[1:] == [
        "De belangrijkste knelpunten", "Werkwijze", "Per gebied",
        "Waar komen de regels vandaan?", "Per thema", "Landelijk, met vertrouwelijke meldingen",
        "Ernst en status", "Meest genoemde regels", "Wat scholen van beleid vragen",
        "Citaten", "Ontwikkeling per kwartaal", "Veranderd sinds de vorige momentopname",
        "Bijlage: bronnen"]  # the chapters of the PDF, in its order
    assert "Heading 2" in styles
    assert "Heading 3" in styles
    body = doc.element.body
    instr = " ".join(t.text for t in body.iter(qn("w:instrText")))
    assert re.search(r'TOC \\o "1-2"', instr)
    kinds = [c.get(qn("w:fldCharType")) for c in body.iter(qn("w:fldChar"))]
    assert kinds == ["begin", "separate", "end"]
    settings = [c.tag.split("}")[1] for c in doc.settings.element]
    assert settings.index("updateFields") < settings.index("compat")  # the schema's order
    assert settings.index("defaultTabStop") < settings.index("autoHyphenation")
    footer = first.footer._element.xml
    assert 'w:instr="PAGE"' in footer
    assert 'w:instr="NUMPAGES"' in footer
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Selectie: Provincie: Gelderland; Sector: mbo." in text
    assert "province=" not in text
    assert "province=" not in footer
    # the top theme comes before the table of contents
    summary = summary_of(province="Gelderland", sector="mbo")
    top = summary["key_message"]["themes"][0]["title"]
    assert text.index(top) < text.index("Inhoud")
    # the tables are Word tables (editable), headers repeat on each page
    assert len(doc.tables) >= 8
    for table in doc.tables:
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None


# --- XLSX ---------------------------------------------------------------------------------

def test_xlsx_has_dutch_headers_numbers_and_an_explanation(client, app):
    build_stress()
    make_initiative(obstacles=[ObstacleData(area="certificeren", title="Alleen vertrouwelijk",
                                            severity=2, visibility="confidential")])
    data = download(client, "xlsx", "province=Limburg&province=Utrecht")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames[0] == "Toelichting"
    assert "over" not in wb.sheetnames
    for ws in wb:
        rows = list(ws.iter_rows(values_only=True))
        header = rows[0]
        for name in header:
            assert name, ws.title
            assert "_" not in name, (ws.title, name)  # "Ernst 1", not "ernst_1"
            assert name[0].isupper(), (ws.title, name)
        for i, name in enumerate(header):
            if name in COUNT_HEADERS:
                values = [r[i] for r in rows[1:] if r[i] is not None]
                assert all(isinstance(v, int | float) and not isinstance(v, bool)
                           for v in values), (ws.title, name, values[:5])
    national = list(wb["Landelijk"].iter_rows(values_only=True))
    header = national[0]
    flag = header.index("Niet getoond")
    suppressed = [r for r in national[1:] if r[flag]]
    assert suppressed  # one school reported confidentially: its cells are not shown
    for row in suppressed:
        hidden = row[flag].split(", ")
        for name in hidden:
            assert row[header.index(name)] is None  # an empty cell, never "<3" or "–"
    about = dict(list(wb["Toelichting"].iter_rows(values_only=True))[1:])
    assert about["Selectie"] == "Provincie: Limburg, Utrecht"
    for title in wb.sheetnames[1:]:
        assert title in about, title  # every sheet explained
    assert wb.properties.keywords == "Provincie: Limburg, Utrecht"


# --- the filter in words, everywhere ------------------------------------------------------

def test_filter_in_words_in_every_format(client, app):
    testdata.build()
    query = "province=Gelderland&sector=mbo"
    words = "Provincie: Gelderland; Sector: mbo"
    html = client.get(f"/knelpunten?{query}").get_data(as_text=True)
    assert words in html
    assert "province=Gelderland" not in re.sub(r'href="[^"]*"|action="[^"]*"', "", html)
    pdf = " ".join(pdf_pages_text(download(client, "pdf", query)))
    assert words in pdf
    assert "province=" not in pdf
    doc = Document(io.BytesIO(download(client, "docx", query)))
    assert words in "\n".join(p.text for p in doc.paragraphs)
    assert doc.core_properties.keywords == words
    wb = openpyxl.load_workbook(io.BytesIO(download(client, "xlsx", query)))
    assert dict(list(wb["Toelichting"].iter_rows(values_only=True))[1:])["Selectie"] == words
