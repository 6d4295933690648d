"""The summary as DOCX (python-docx), PDF (WeasyPrint) and XLSX figures - pure functions.

All of them render the dict from ``compute_summary``; none computes a figure itself, so every
format shows the numbers of the page.
"""
from __future__ import annotations

import io
from typing import Any, NamedTuple

from flask_babel import gettext as _
from flask_babel import ngettext

from registry.exports.xlsx import XlsxBook
from registry.summary.labels import (
    CATEGORY_LABELS,
    CATEGORY_SHORT,
    RULE_LEVEL_LABELS,
    area_label,
    distribution,
    sector_label,
)
from registry.taxonomy.services import current as current_taxonomy

SEVERITY_KEYS = ("1", "2", "3", "4")
ANNEX_LIMIT = 500  # source entries listed in DOCX/PDF/page; the full list is in the exports


def annex_note(summary: dict[str, Any]) -> str | None:
    total = len(summary["entries"])
    if total <= ANNEX_LIMIT:
        return None
    return _("De eerste %(n)d van %(total)d initiatieven; de volledige lijst staat in de "
             "export van initiatieven.", n=ANNEX_LIMIT, total=total)


# --- charts (matplotlib, PNG for DOCX) ---

def bar_chart_png(labels: list[str], values: list[int], title: str) -> bytes:
    """A horizontal bar chart with the value printed at each bar."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height = 0.45 * max(len(labels), 1) + 1.0
    fig = Figure(figsize=(6.2, height), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    positions = list(range(len(labels)))
    ax.barh(positions, values, color="#154273")
    ax.set_yticks(positions, labels=labels)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10, loc="left")
    for pos, value in zip(positions, values, strict=True):
        ax.text(value, pos, f" {value}", va="center", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlim(0, max(values + [1]) * 1.15)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def counts_header() -> list[str]:
    return [_("Initiatieven"), _("Scholen"), _("Lerenden"), _("Meldingen"),
            _("Ernst 1/2/3/4"), _("Omzeild"), _("Opgelost")]


def counts_cells(row: dict[str, Any]) -> list[str]:
    return [str(row["initiatives"]), str(row["schools"]), str(row["learners"]),
            str(row["obstacles"]), "/".join(str(row["severity"][k]) for k in SEVERITY_KEYS),
            str(row["worked_around"]), str(row["solved"])]


def source_line(summary: dict[str, Any]) -> str:
    meta = summary["meta"]
    if meta["source"] == "snapshot":
        src = _("momentopname %(code)s", code=meta["snapshot"])
    else:
        src = _("actuele gegevens")
    return _("Bron: %(source)s, gegevens van %(date)s. Filter: %(filter)s.",
             source=src, date=meta["data_date"][:16].replace("T", " "), filter=meta["filter"])


# --- DOCX ---

def to_docx(summary: dict[str, Any], *, title: str, link) -> bytes:
    """Title page, method, a chapter per area with table and chart, annex with sources."""
    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    doc.core_properties.title = title[:255]  # core properties hold at most 255 characters
    doc.core_properties.subject = source_line(summary)[:255]
    doc.core_properties.keywords = summary["meta"]["filter"][:255]
    doc.core_properties.author = "Register gepersonaliseerd leren"
    doc.styles["Normal"].font.size = Pt(10)

    doc.add_heading(title, level=0)
    doc.add_paragraph(source_line(summary))
    doc.add_paragraph(_("Gemaakt op %(date)s.", date=summary["meta"]["generated_at"][:10]))
    for text in notices(summary):
        doc.add_paragraph(text)
    doc.add_page_break()

    doc.add_heading(_("Werkwijze"), level=1)
    for text in method_paragraphs(summary):
        doc.add_paragraph(text)

    doc.add_heading(_("Samenvatting"), level=1)
    _docx_table(doc, [_("Gebied")] + counts_header(),
                [[area_label(a["code"])] + counts_cells(a) for a in summary["areas"]]
                + [[_("Totaal")] + counts_cells(summary["totals"])])
    areas = [a for a in summary["areas"]]
    doc.add_picture(io.BytesIO(bar_chart_png(
        [area_label(a["code"]) for a in areas], [a["obstacles"] for a in areas],
        _("Meldingen per gebied"))), width=Cm(15))

    doc.add_heading(_("Wat is er nodig?"), level=1)
    _docx_table(doc, [_("Herkomst van de regels"), _("Thema's")] + counts_header(),
                [[str(CATEGORY_LABELS[c["code"]]), str(c["themes"])] + counts_cells(c)
                 for c in summary["categories"]])
    doc.add_picture(io.BytesIO(bar_chart_png(
        [str(CATEGORY_SHORT[c["code"]]) for c in summary["categories"]],
        [c["obstacles"] for c in summary["categories"]], _("Meldingen naar herkomst van de regel")
    )), width=Cm(15))

    for area in summary["areas"]:
        doc.add_heading(area_label(area["code"]), level=1)
        _docx_table(doc, counts_header(), [counts_cells(area)])
        doc.add_paragraph(_("Sectoren: %(list)s", list=distribution(area["sectors"], sector_label)
                            or "-"))
        doc.add_paragraph(_("Provincies: %(list)s", list=distribution(area["provinces"]) or "-"))
        themes = [t for t in summary["themes"] if t["area"] == area["code"]]
        if themes:
            doc.add_heading(_("Thema's"), level=2)
            _docx_table(doc, [_("Thema"), _("Herkomst")] + counts_header(),
                        [[t["title"], str(CATEGORY_SHORT[t["category"]])] + counts_cells(t)
                         for t in themes])
            doc.add_picture(io.BytesIO(bar_chart_png(
                [t["title"][:40] for t in themes], [t["obstacles"] for t in themes],
                _("Meldingen per thema"))), width=Cm(15))
            for t in themes:
                if t["rules"]:
                    doc.add_paragraph(t["title"], style="Heading 3")
                    for r in t["rules"]:
                        doc.add_paragraph(
                            f"{r['title']} ({RULE_LEVEL_LABELS.get(r['level'], r['level'])})"
                            + (f" - {r['source_url']}" if r["source_url"] else "")
                            + (f". {_('Ruimte')}: {r['existing_room']}" if r["existing_room"]
                               else ""),
                            style="List Bullet")
        quotes = [q for q in summary["quotes"] if q["area"] == area["code"]]
        if quotes:
            doc.add_heading(_("Citaten"), level=2)
            for q in quotes:
                doc.add_paragraph(f"\u201c{q['text']}\u201d ({quote_origin(q)})", style="Quote")

    doc.add_heading(_("Landelijk, met vertrouwelijke meldingen"), level=1)
    for text in national_paragraphs(summary):
        doc.add_paragraph(text)
    _docx_table(doc, national_header(),
                [national_cells(row) for row in summary["national"]["rows"]])

    doc.add_heading(_("Meest genoemde regels"), level=1)
    _docx_table(doc, [_("Regel"), _("Meldingen"), _("Initiatieven")],
                [[r["rule"], str(r["obstacles"]), str(r["initiatives"])]
                 for r in summary["top_rules"]])
    doc.add_heading(_("Wat scholen van beleid vragen"), level=1)
    for group in summary["policy_asks"]:
        doc.add_heading(group["title"] or _("Nog niet in een thema ingedeeld"), level=2)
        for ask in group["asks"]:
            doc.add_paragraph(f"{ask['text']} ({ask['count']}x)", style="List Bullet")
    doc.add_heading(_("Ontwikkeling per kwartaal"), level=1)
    _docx_table(doc, [_("Kwartaal"), _("Gepubliceerde initiatieven"), _("Gemelde knelpunten")],
                [[q["quarter"], str(q["initiatives"]), str(q["obstacles"])]
                 for q in summary["quarters"]])
    doc.add_heading(_("Veranderd sinds de vorige momentopname"), level=1)
    for text in change_lines(summary):
        doc.add_paragraph(text, style="List Bullet")

    doc.add_page_break()
    doc.add_heading(_("Bijlage: bronnen"), level=1)
    table = _docx_table(doc, [_("Referentie"), _("Initiatief"), _("School"), _("Sector"),
                              _("Provincie"), _("Meldingen"), _("Link")],
                        [[e["reference"] or "", e["title"], e["school"], sector_label(e["sector"]),
                          e["province"], str(e["obstacles"]), link(e["id"])]
                         for e in summary["entries"][:ANNEX_LIMIT]])
    del table
    note = annex_note(summary)
    if note:
        doc.add_paragraph(note)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _docx_table(doc, header: list[str], rows: list[list[str]]):
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Light Grid Accent 1"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    doc.add_paragraph()
    return table


def method_paragraphs(summary: dict[str, Any]) -> list[str]:
    out = [
        _("Scholen melden hun initiatief voor volledig gepersonaliseerd leren met de knelpunten "
          "die zij tegenkomen, in deze gebieden: %(areas)s. Moderatoren controleren elke "
          "melding voor publicatie en delen vergelijkbare knelpunten in bij een thema.",
          areas=", ".join(t.label for t in current_taxonomy().areas)),
        _("Dit overzicht telt alleen gepubliceerde meldingen. Scholen zijn verschillende "
          "combinaties van instellingscode en vestiging; lerenden is de som van de opgegeven "
          "aantallen per initiatief. Bij een filter op gebied of thema tellen alleen de "
          "knelpunten in dat gebied of thema mee."),
        _("Per thema geeft de moderator aan waar de regels vandaan komen (wet, AMvB, "
          "ministeriële regeling, toezicht, sectorafspraak of bestuur). Een thema valt in de "
          "categorie van zijn meest landelijke regel."),
        _("Citaten komen alleen van contactpersonen die daarvoor toestemming gaven en noemen "
          "geen school of persoon."),
        *visibility_paragraphs(summary),
    ]
    return out


def visibility_paragraphs(summary: dict[str, Any]) -> list[str]:
    """What the figures count and what they protect (docs/privacy.md, issue 16)."""
    meta = summary["meta"]
    if meta["exact"]:
        return [_("U ziet als adviseur ook de vertrouwelijke meldingen in alle cijfers. Deel "
                  "deze cijfers niet buiten het register: openbaar tellen vertrouwelijke "
                  "meldingen alleen mee in de landelijke tabel, en alleen waar ten minste "
                  "%(n)d scholen vertrouwelijk meldden.", n=meta["threshold"])]
    return [_("Openbare meldingen staan met de naam van de school op de site. De cijfers "
              "daarover zijn daarom exact, ook als het om één school gaat; ze beschermen "
              "niemand en doen dat ook niet voor.")]


def national_paragraphs(summary: dict[str, Any]) -> list[str]:
    """The explanation above the national table."""
    n = summary["meta"]["threshold"]
    out = [_("Scholen kunnen een knelpunt vertrouwelijk melden. Zo'n melding staat nergens "
             "bij de school en telt alleen mee in deze landelijke tabel per gebied en per "
             "thema. De tabel is altijd landelijk en verandert niet met het filter.")]
    if not summary["national"]["exact"]:
        out.append(_("Een cijfer waarin vertrouwelijke meldingen van minder dan %(n)d scholen "
                     "doorwerken, tonen we niet (–). Soms verbergen we ook een tweede cijfer, "
                     "zodat niemand het verborgen cijfer kan terugrekenen uit een totaal.",
                     n=n))
    return out


def notices(summary: dict[str, Any]) -> list[str]:
    """Short notices at the top of the page and the documents."""
    meta = summary["meta"]
    out = []
    if meta["exact"]:
        out.append(_("U ziet als adviseur exacte cijfers, met de vertrouwelijke meldingen."))
    if meta.get("withdrawn_since"):
        out.append(ngettext(
            "Sinds deze momentopname is %(num)d initiatief ingetrokken. Het telt nog mee in "
            "de cijfers, maar staat niet meer in lijsten, teksten en de bijlage.",
            "Sinds deze momentopname zijn %(num)d initiatieven ingetrokken. Ze tellen nog mee "
            "in de cijfers, maar staan niet meer in lijsten, teksten en de bijlage.",
            meta["withdrawn_since"]))
    return out


def national_cell(value: int | None) -> str:
    return "–" if value is None else str(value)


def national_label(row: dict[str, Any]) -> str:
    if row["kind"] == "total":
        return _("Alle gebieden")
    if row["kind"] == "area":
        return area_label(row["area"])
    if row["kind"] == "theme":
        return _("Thema") + ": " + (row["title"] or "")
    return _("Nog niet in een thema ingedeeld")


def national_header() -> list[str]:
    return [_("Gebied of thema"), _("Initiatieven"), _("Scholen"), _("Lerenden"),
            _("Meldingen"), _("Waarvan vertrouwelijk"), _("Ernst 1/2/3/4")]


def national_cells(row: dict[str, Any]) -> list[str]:
    return [national_label(row), *(national_cell(row[k]) for k in
                                   ("initiatives", "schools", "learners", "reports",
                                    "confidential")),
            "/".join(national_cell(row["severity"][k]) for k in SEVERITY_KEYS)]


def quote_origin(q: dict[str, Any]) -> str:
    parts = [sector_label(q["sector"])]
    if q["province"]:
        parts.append(q["province"])
    return ", ".join(parts)


def change_lines(summary: dict[str, Any]) -> list[str]:
    ch = summary["changes"]
    if not ch["previous"]:
        return [_("Er is nog geen eerdere momentopname om mee te vergelijken.")]
    lines = [
        _("Vergeleken met momentopname %(code)s.", code=ch["previous"]),
        _("Nieuwe meldingen: %(n)d.", n=ch["new_obstacles"]),
        _("Opgeloste meldingen: %(n)d.", n=ch["solved_obstacles"]),
        _("Nieuwe thema's: %(list)s.", list=", ".join(t["title"] for t in ch["new_themes"])
          or "-"),
        _("Nieuwe provincies: %(list)s.", list=", ".join(ch["new_provinces"]) or "-"),
    ]
    return lines


# --- PDF ---

def to_pdf(html: str, base_url: str) -> bytes:
    """Render the print template with WeasyPrint."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf()


# --- XLSX figures ---

def to_xlsx(summary: dict[str, Any]) -> bytes:
    """The figures of the summary, one sheet per table (same numbers as the page)."""
    class Col(NamedTuple):
        name: str
        type: str
        width: int

    def cols(*names: str) -> list[Col]:
        return [Col(n, "tekst", 14 if i else 30) for i, n in enumerate(names)]

    count_names = ["initiatieven", "scholen", "lerenden", "meldingen", "ernst_1", "ernst_2",
                   "ernst_3", "ernst_4", "omzeild", "opgelost", "sectoren", "provincies"]

    def counts(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "initiatieven": row["initiatives"], "scholen": row["schools"],
            "lerenden": row["learners"], "meldingen": row["obstacles"],
            **{f"ernst_{k}": row["severity"][k] for k in SEVERITY_KEYS},
            "omzeild": row["worked_around"], "opgelost": row["solved"],
            "sectoren": distribution(row["sectors"]), "provincies": distribution(row["provinces"]),
        }

    book = XlsxBook()

    def sheet(title: str, columns: list[Col], rows) -> None:
        ws = book.add_sheet(title, columns)
        for row in rows:
            ws.write(row)
        ws.close()

    sheet("gebieden", cols("gebied", *count_names),
          [{"gebied": a["code"], **counts(a)} for a in summary["areas"]]
          + [{"gebied": "totaal", **counts(summary["totals"])}])
    sheet("themas", cols("thema", "thema_id", "gebied", "categorie", *count_names),
          [{"thema": t["title"], "thema_id": t["id"], "gebied": t["area"],
            "categorie": t["category"], **counts(t)} for t in summary["themes"]])
    sheet("herkomst", cols("categorie", "themas", *count_names),
          [{"categorie": c["code"], "themas": c["themes"], **counts(c)}
           for c in summary["categories"]])
    sheet("regels", cols("regel", "meldingen", "initiatieven"),
          [{"regel": r["rule"], "meldingen": r["obstacles"], "initiatieven": r["initiatives"]}
           for r in summary["top_rules"]])
    sheet("vragen", cols("thema", "vraag", "aantal"),
          [{"thema": g["title"] or "", "vraag": a["text"], "aantal": a["count"]}
           for g in summary["policy_asks"] for a in g["asks"]])
    sheet("kwartalen", cols("kwartaal", "initiatieven", "meldingen"),
          [{"kwartaal": q["quarter"], "initiatieven": q["initiatives"],
            "meldingen": q["obstacles"]} for q in summary["quarters"]])
    sheet("landelijk", cols("rij", "gebied", "thema_id", "titel", "initiatieven", "scholen",
                            "lerenden", "meldingen", "vertrouwelijk", "ernst_1", "ernst_2",
                            "ernst_3", "ernst_4"),
          [{"rij": row["kind"], "gebied": row["area"] or "", "thema_id": row["theme_id"],
            "titel": national_label(row), "initiatieven": row["initiatives"],
            "scholen": row["schools"], "lerenden": row["learners"],
            "meldingen": row["reports"], "vertrouwelijk": row["confidential"],
            **{f"ernst_{k}": row["severity"][k] for k in SEVERITY_KEYS}}
           for row in summary["national"]["rows"]])
    meta = summary["meta"]
    sheet("over", [Col("sleutel", "tekst", 18), Col("waarde", "tekst", 70)],
          [{"sleutel": k, "waarde": str(meta[k])} for k in
           ("source", "snapshot", "data_date", "filter", "exact", "threshold", "withdrawn_since",
            "generated_at")])
    with book.finish(title=_("Knelpuntenoverzicht"), subject=source_line(summary),
                     keywords=meta["filter"]) as out:
        return out.read()
