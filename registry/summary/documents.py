"""The summary as DOCX (python-docx), PDF (WeasyPrint) and XLSX figures - pure functions.

All of them render the dict from ``compute_summary``; none computes a figure itself, so every
format shows the numbers of the page. Every document opens with the key message (the top
themes and the key figures) and then follows the same chapters as the PDF
(templates/summary/report.html): the top themes in full, method, areas, origin of the rules,
themes, the national table, severity, rules, asks, quotes, quarters, changes, and the annex.
"""
from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from flask import current_app, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from registry.exports.xlsx import XlsxBook
from registry.localized import docx_language
from registry.summary.figures import ANNEX_LIMIT
from registry.summary.labels import (
    ORIGIN_GROUP_LABELS,
    ORIGIN_GROUP_SHORT,
    ORIGIN_LEVEL_LABELS,
    ORIGIN_NOTE,
    STATUS_LABELS,
    area_label,
    distribution,
    sector_label,
)
from registry.taxonomy.constants import PROVINCES, SEVERITIES
from registry.taxonomy.services import current as current_taxonomy

SEVERITY_KEYS = ("1", "2", "3", "4")
BRAND = "#154273"

ORIGIN_GROUP_COLOURS = {"regelgeving": BRAND, "toezicht_sector": "#01689b",
                        "school": "#39870c", "onbekend": "#8c8c8c"}


def annex_note(summary: dict[str, Any]) -> str | None:
    total = summary["entry_count"]
    if total <= ANNEX_LIMIT:
        return None
    return _("De eerste %(n)d van %(total)d initiatieven; de volledige lijst staat in de "
             "export van initiatieven.", n=ANNEX_LIMIT, total=total)


# --- texts shared by the formats ---

def origin_label(level: str) -> str:
    return str(ORIGIN_LEVEL_LABELS.get(level, level))


def origin_group_label(group: str) -> str:
    """'Wet- en regelgeving (vraagt een wijziging van wet- of regelgeving)', as the page."""
    if group == "onbekend":
        detail = _("melding zonder thema, of thema zonder regels")
    else:
        detail = str(ORIGIN_GROUP_LABELS[group]).lower()
    return f"{ORIGIN_GROUP_SHORT[group]} ({detail})"


def percent(share: float) -> str:
    return f"{round(share * 100)}%"


def schools_change_text(theme: dict[str, Any], previous: str | None) -> str:
    """'+3 sinds momentopname 2026-10-a', or '' without a previous snapshot."""
    change = theme["schools_change"]
    if change is None or previous is None:
        return ""
    if change > 0:
        return _("+%(n)d sinds momentopname %(code)s", n=change, code=previous)
    if change < 0:
        return _("%(n)d sinds momentopname %(code)s", n=change, code=previous)
    return _("gelijk sinds momentopname %(code)s", code=previous)


def theme_figures_line(theme: dict[str, Any], previous: str | None) -> str:
    schools = ngettext("%(num)d school", "%(num)d scholen", theme["schools"])
    change = schools_change_text(theme, previous)
    if change:
        schools += f" ({change})"
    return " · ".join([
        schools,
        ngettext("%(num)d lerende", "%(num)d lerenden", theme["learners"]),
        ngettext("%(num)d melding", "%(num)d meldingen", theme["reports"]) + ", "
        + _("waarvan %(share)s blokkerend (ernst 3 of 4)", share=percent(theme["severe_share"])),
    ])


def rules_line(theme: dict[str, Any]) -> str:
    if not theme["rules"]:
        return _("Herkomst van de regels nog niet bepaald")
    text = "; ".join(f"{r['title']} ({origin_label(r['level'])})" for r in theme["rules"])
    if theme["mixed"]:
        text += " · " + _("gemengde herkomst")
    return text


def ask_text(theme: dict[str, Any]) -> str:
    return theme["ask"] or _("nog niet vastgelegd door de moderator.")


def counts_header() -> list[str]:
    return [_("Initiatieven"), _("Scholen"), _("Lerenden"), _("Meldingen"),
            _("Ernst 1/2/3/4"), _("Omzeild"), _("Opgelost")]


def counts_cells(row: dict[str, Any]) -> list[str]:
    return [str(row["initiatives"]), str(row["schools"]), str(row["learners"]),
            str(row["obstacles"]), "/".join(str(row["severity"][k]) for k in SEVERITY_KEYS),
            str(row["worked_around"]), str(row["solved"])]


def source_text(summary: dict[str, Any]) -> str:
    meta = summary["meta"]
    if meta["source"] == "snapshot":
        return _("momentopname %(code)s", code=meta["snapshot"])
    return _("actuele gegevens")


def source_line(summary: dict[str, Any]) -> str:
    meta = summary["meta"]
    return _("Bron: %(source)s, gegevens van %(date)s. Selectie: %(words)s.",
             source=source_text(summary), date=meta["data_date"][:16].replace("T", " "),
             words=meta["filter_words"])


def origin_note(summary: dict[str, Any]) -> str:
    """What each bar and row of the origins counts (the same words as the page)."""
    return " ".join([_("Wat elke balk telt:"), str(ORIGIN_NOTE), mixed_note(summary)])


def mixed_note(summary: dict[str, Any]) -> str:
    return _("Een thema met regels uit meer dan één groep heet gemengd en telt in elk van zijn "
             "niveaus mee. Het totaal is %(n)d meldingen.", n=summary["totals"]["obstacles"])


def theme_link() -> Callable[[int], str]:
    """``theme id -> absolute URL of its public theme page`` under BASE_URL."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return lambda theme_id: base + url_for("themes.theme", theme_id=theme_id)


def toc_entries() -> list[tuple[str, str]]:
    """The chapters after the cover, as in the PDF's table of contents."""
    return [
        ("kernboodschap", _("De belangrijkste knelpunten")),
        ("werkwijze", _("Werkwijze")),
        ("gebieden", _("Per gebied")),
        ("herkomst", _("Waar komen de regels vandaan?")),
        ("themas", _("Per thema")),
        ("landelijk", _("Landelijk, met vertrouwelijke meldingen")),
        ("ernst", _("Ernst en status")),
        ("regels", _("Meest genoemde regels")),
        ("vragen", _("Wat scholen van beleid vragen")),
        ("citaten", _("Citaten")),
        ("kwartalen", _("Ontwikkeling per kwartaal")),
        ("veranderingen", _("Veranderd sinds de vorige momentopname")),
        ("bijlage", _("Bijlage: bronnen")),
    ]


# --- charts (matplotlib, PNG for DOCX) ---

def bar_chart_png(labels: list[str], values: list[int], title: str,
                  colours: list[str] | None = None, notes: list[str] | None = None,
                  legend: list[tuple[str, str]] | None = None) -> bytes:
    """A horizontal bar chart with the value printed at each bar; long labels wrap over
    several lines instead of being cut."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    wrapped = ["\n".join(textwrap.wrap(label, 32, break_long_words=True)) or "-"
               for label in labels]
    lines = sum(max(label.count("\n") + 1, 1) for label in wrapped)
    height = 0.24 * lines + 0.22 * len(labels) + 0.9
    fig = Figure(figsize=(6.3, height), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    positions = list(range(len(labels)))
    ax.barh(positions, values, color=colours or BRAND)
    ax.set_yticks(positions, labels=wrapped, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10, loc="left")
    for i, (pos, value) in enumerate(zip(positions, values, strict=True)):
        note = f" {notes[i]}" if notes and notes[i] else ""
        ax.text(value, pos, f" {value}{note}", va="center", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlim(0, max(values + [1]) * (1.45 if notes else 1.15))
    if legend:
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=colour, label=label) for label, colour in legend],
                  fontsize=7, loc="lower right", frameon=False)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def origin_chart_png(summary: dict[str, Any]) -> bytes:
    origins = summary["origins"]
    return bar_chart_png(
        [origin_label(o["level"]) for o in origins], [o["obstacles"] for o in origins],
        _("Meldingen naar herkomst van de regels"),
        colours=[ORIGIN_GROUP_COLOURS.get(o["group"], BRAND) for o in origins],
        notes=[ngettext("(%(num)d gemengd thema)", "(%(num)d gemengde thema's)",
                        o["mixed_themes"]) if o["mixed_themes"] else "" for o in origins],
        legend=[(str(ORIGIN_GROUP_SHORT[g]), ORIGIN_GROUP_COLOURS.get(g, BRAND))
                for g in dict.fromkeys(o["group"] for o in origins)])


# --- DOCX ---

def to_docx(summary: dict[str, Any], *, title: str, link: Callable[[int], str]) -> bytes:
    """A4, built-in Heading styles, a table of contents field, the chapters of the PDF."""
    from docx import Document
    from docx.shared import Cm, Pt, Twips

    doc = Document()
    meta = summary["meta"]
    km = summary["key_message"]
    previous = summary["changes"]["previous"]
    themes_url = theme_link()
    doc.core_properties.title = title[:255]  # core properties hold at most 255 characters
    doc.core_properties.subject = source_line(summary)[:255]
    doc.core_properties.keywords = meta["filter_words"][:255]
    doc.core_properties.author = "Register gepersonaliseerd leren"
    language = "en-GB" if str(get_locale() or "nl").startswith("en") else "nl-NL"
    doc.core_properties.language = language
    doc.styles["Normal"].font.size = Pt(10)
    _docx_language(doc, language)
    for level, size in ((1, 15), (2, 12), (3, 10.5)):
        doc.styles[f"Heading {level}"].font.size = Pt(size)
    section = doc.sections[0]
    section.page_width, section.page_height = Twips(11906), Twips(16838)  # A4
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    _docx_header_footer(section, title, summary)
    headings: list[tuple[int, str]] = []

    def heading(text: str, level: int) -> None:
        doc.add_heading(text, level=level)
        if level <= 2:
            headings.append((level, text))

    # Cover: title, source, key figures and the key message in short.
    doc.add_heading(title, level=0)
    doc.add_paragraph(_("Waar lopen scholen met volledig gepersonaliseerd leren tegenaan, waar "
                        "komen de regels vandaan en wat vragen zij van OCW?"))
    doc.add_paragraph(source_line(summary))
    doc.add_paragraph(_("Gemaakt op %(date)s.", date=meta["generated_at"][:10]))
    for text in notices(summary):
        doc.add_paragraph(text)
    figures = km["figures"]
    _docx_table(doc, [_("Initiatieven"), _("Scholen"), _("Lerenden"), _("Meldingen"),
                      _("Thema's")],
                [[str(figures[k]) for k in ("initiatives", "schools", "learners", "reports",
                                            "themes")]], numeric_from=0)
    doc.add_heading(_("Kernboodschap: de knelpunten die de meeste scholen raken"), level=1)
    if not km["themes"]:
        doc.add_paragraph(_("Er zijn nog geen meldingen in een thema ingedeeld."))
    for t in km["themes"]:
        p = doc.add_paragraph(style="List Number")
        add_hyperlink(p, themes_url(t["id"]), t["title"], bold=True)
        p.add_run(f"  ({area_label(t['area'])})")
        docx_language(doc.add_paragraph(t["problem"]), t["problem"])
        doc.add_paragraph(theme_figures_line(t, previous))
        p = doc.add_paragraph()
        p.add_run(_("Regels:") + " ").bold = True
        p.add_run(rules_line(t))
        p = doc.add_paragraph()
        p.add_run(_("Vraag aan OCW:") + " ").bold = True
        docx_language(p.add_run(ask_text(t)), t["ask"] or "")
    if previous and km["new_themes"]:
        doc.add_paragraph(ngettext(
            "Nieuw thema sinds momentopname %(code)s:", "Nieuwe thema's sinds momentopname "
            "%(code)s:", len(km["new_themes"]), code=previous) + " "
            + ", ".join(t["title"] for t in km["new_themes"]) + ".")

    doc.add_page_break()
    doc.add_paragraph(_("Inhoud"), style="TOC Heading")
    toc_anchor = doc.add_paragraph()
    doc.add_page_break()

    heading(_("De belangrijkste knelpunten"), 1)
    doc.add_paragraph(_("De thema's met de meeste scholen, bij gelijke aantallen het grootste "
                        "aandeel meldingen dat (een deel van) het initiatief blokkeert. Per "
                        "thema: het probleem, de regels en waar ze vandaan komen, de ruimte die "
                        "er al is en de vraag aan OCW."))
    for rank, t in enumerate(km["themes"], start=1):
        heading(f"{rank}. {t['title']}", 2)
        p = doc.add_paragraph(area_label(t["area"]) + " · ")
        add_hyperlink(p, themes_url(t["id"]), _("themapagina"))
        docx_language(doc.add_paragraph(t["problem"]), t["problem"])
        doc.add_paragraph(theme_figures_line(t, previous) + ".")
        p = doc.add_paragraph()
        p.add_run(_("Sectoren:") + " ").bold = True
        p.add_run((distribution(t["sectors"], sector_label) or "-") + ". ")
        p.add_run(_("Provincies:") + " ").bold = True
        p.add_run((distribution(t["provinces"]) or "-") + ".")
        doc.add_heading(_("Regels en hun herkomst"), level=3)
        if t["mixed"]:
            doc.add_paragraph(_("gemengde herkomst: regels van meer dan één niveau"))
        for r in t["rules"]:
            _docx_rule(doc, r)
        if not t["rules"]:
            doc.add_paragraph(_("Herkomst van de regels nog niet bepaald"))
        p = doc.add_paragraph()
        p.add_run(_("Vraag aan OCW:") + " ").bold = True
        docx_language(p.add_run(ask_text(t)), t["ask"] or "")
        if t["quote"]:
            doc.add_paragraph(f"\u201c{t['quote']['text']}\u201d ({quote_origin(t['quote'])})",
                              style="Quote")

    heading(_("Werkwijze"), 1)
    for text in method_paragraphs(summary):
        doc.add_paragraph(text)

    heading(_("Per gebied"), 1)
    areas = summary["areas"]
    doc.add_picture(io.BytesIO(bar_chart_png(
        [area_label(a["code"]) for a in areas], [a["obstacles"] for a in areas],
        _("Gemelde knelpunten per gebied"))), width=Cm(15))
    _docx_caption(doc, _("Per gebied: initiatieven, scholen, lerenden en meldingen"))
    _docx_table(doc, [_("Gebied")] + counts_header(),
                [[area_label(a["code"])] + counts_cells(a) for a in areas]
                + [[_("Totaal")] + counts_cells(summary["totals"])], total_last=True)
    doc.add_paragraph(_("Een initiatief met knelpunten in meer gebieden telt in elk van die "
                        "gebieden mee; het totaal telt het één keer."))
    header, rows = sector_matrix(summary)
    if rows:
        _docx_caption(doc, _("Initiatieven per gebied en sector"))
        _docx_table(doc, header, rows, total_last=True)
    header, rows = province_matrix(summary)
    if rows:
        _docx_caption(doc, _("Initiatieven per provincie en gebied"))
        _docx_table(doc, header, rows)

    heading(_("Waar komen de regels vandaan?"), 1)
    doc.add_paragraph(_("Per thema legt de moderator bij elke regel vast waar die vandaan komt. "
                        "Zo is te zien welke knelpunten een wijziging van wet- of regelgeving "
                        "vragen, welke andere afspraken met inspectie of sector, en welke "
                        "opgelost kunnen worden met informatie of een andere keuze van school "
                        "of bestuur."))
    doc.add_paragraph(origin_note(summary))
    doc.add_picture(io.BytesIO(origin_chart_png(summary)), width=Cm(15))
    _docx_caption(doc, _("Naar herkomst van de regels"))
    origin_rows: list[list[str]] = []
    group_rows: list[int] = []
    for group, members in origin_groups(summary):
        group_rows.append(len(origin_rows) + 1)
        origin_rows.append([origin_group_label(group)] + [""] * 9)
        origin_rows += [[origin_label(o["level"]), str(o["themes"]), str(o["mixed_themes"])]
                        + counts_cells(o) for o in members]
    table = _docx_table(doc, [_("Herkomst"), _("Thema's"), _("Waarvan gemengd")]
                        + counts_header(), origin_rows)
    for index in group_rows:
        row = table.rows[index]
        merged = row.cells[0].merge(row.cells[-1])
        merged.text = origin_rows[index - 1][0]
        for run in merged.paragraphs[0].runs:
            run.bold = True
            run.font.size = Pt(8)

    heading(_("Per thema"), 1)
    themes = summary["themes"]
    if themes:
        doc.add_picture(io.BytesIO(bar_chart_png(
            [t["title"] for t in themes], [t["obstacles"] for t in themes],
            _("Gemelde knelpunten per thema"))), width=Cm(15))
        _landscape(doc, True)  # ten columns: as on the PDF's landscape page
        _docx_caption(doc, _("Per thema, met de regels en hun herkomst"))
        _docx_table(doc, [_("Thema"), _("Gebied"), _("Herkomst")] + counts_header(),
                    [[t["title"], area_label(t["area"]), theme_origins(t)] + counts_cells(t)
                     for t in themes], numeric_from=3)
        _landscape(doc, False)
        doc.add_heading(_("Regels per thema"), level=2)
        for t in themes:
            if t["rules"]:
                docx_language(doc.add_heading(t["title"], level=3), t["title"])
                for r in t["rules"]:
                    _docx_rule(doc, r)
    else:
        doc.add_paragraph(_("Er zijn nog geen meldingen in een thema ingedeeld."))

    heading(_("Landelijk, met vertrouwelijke meldingen"), 1)
    for text in national_paragraphs(summary):
        doc.add_paragraph(text)
    _docx_caption(doc, _("Landelijk, met vertrouwelijke meldingen (niet gefilterd)"))
    _docx_table(doc, national_header(),
                [national_cells(row) for row in summary["national"]["rows"]])

    heading(_("Ernst en status"), 1)
    totals = summary["totals"]
    doc.add_picture(io.BytesIO(bar_chart_png(
        [str(SEVERITIES[int(k)]) for k in SEVERITY_KEYS],
        [totals["severity"][k] for k in SEVERITY_KEYS], _("Meldingen naar ernst"))),
        width=Cm(13))
    _docx_caption(doc, _("Meldingen naar ernst en status"))
    _docx_table(doc, [_("Ernst"), _("Meldingen")],
                [[str(SEVERITIES[int(k)]), str(totals["severity"][k])] for k in SEVERITY_KEYS]
                + [[_("Status") + ": " + str(STATUS_LABELS[k]), str(v)]
                   for k, v in totals["status"].items()])

    heading(_("Meest genoemde regels"), 1)
    if summary["top_rules"]:
        _docx_caption(doc, _("De regels die scholen het vaakst noemen"))
        _docx_table(doc, [_("Regel"), _("Meldingen"), _("Initiatieven")],
                    [[r["rule"], str(r["obstacles"]), str(r["initiatives"])]
                     for r in summary["top_rules"]])
    else:
        doc.add_paragraph(_("Geen regels genoemd."))

    heading(_("Wat scholen van beleid vragen"), 1)
    for group in summary["policy_asks"]:
        heading(group["title"] or _("Nog niet in een thema ingedeeld"), 2)
        for ask in group["asks"]:
            doc.add_paragraph(f"{ask['text']} ({ask['count']}x)", style="List Bullet")
    if not summary["policy_asks"]:
        doc.add_paragraph(_("Geen vragen aan beleid gemeld."))

    heading(_("Citaten"), 1)
    if summary["quotes"]:
        doc.add_paragraph(_("Alleen van contactpersonen die toestemming gaven; zonder naam van "
                            "school of persoon."))
        for q in summary["quotes"]:
            doc.add_paragraph(f"\u201c{q['text']}\u201d ({quote_origin(q)} · "
                              f"{area_label(q['area'])})", style="Quote")
    else:
        doc.add_paragraph(_("Geen citaten beschikbaar."))

    heading(_("Ontwikkeling per kwartaal"), 1)
    if summary["quarters"]:
        doc.add_paragraph(_("Meldingen tellen in het kwartaal waarin de school ze meldde; "
                            "initiatieven in het kwartaal waarin ze werden gepubliceerd."))
        _docx_caption(doc, _("Gepubliceerde initiatieven en gemelde knelpunten per kwartaal"))
        _docx_table(doc, [_("Kwartaal"), _("Gepubliceerde initiatieven"),
                          _("Gemelde knelpunten")],
                    [[q["quarter"], str(q["initiatives"]), str(q["obstacles"])]
                     for q in summary["quarters"]])
    else:
        doc.add_paragraph(_("Nog geen gegevens."))

    heading(_("Veranderd sinds de vorige momentopname"), 1)
    for text in change_lines(summary):
        doc.add_paragraph(text, style="List Bullet")

    # The annex on landscape pages: seven columns with links.
    _landscape(doc, True)
    heading(_("Bijlage: bronnen"), 1)
    _docx_table(doc, [_("Referentie"), _("Initiatief"), _("School"), _("Sector"),
                      _("Provincie"), _("Meldingen"), _("Link")],
                [[e["reference"] or "", e["title"], e["school"], sector_label(e["sector"]),
                  e["province"] or "", str(e["obstacles"]), link(e["id"])]
                 for e in summary["entries"][:ANNEX_LIMIT]], numeric_from=5, numeric_to=6)
    note = annex_note(summary)
    if note:
        doc.add_paragraph(note)

    _docx_toc(toc_anchor, headings)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _docx_header_footer(section, title: str, summary: dict[str, Any]) -> None:
    """Running header (title, source, date) and footer (selection, 'pagina x van y')."""
    from docx.shared import Pt

    meta = summary["meta"]
    header = section.header.paragraphs[0]
    header.text = (f"{title} · {source_text(summary)} · "
                   f"{meta['data_date'][:16].replace('T', ' ')}")
    footer = section.footer.paragraphs[0]
    footer.text = _("Bron: Register gepersonaliseerd leren. Selectie: %(words)s.",
                    words=meta["filter_words"]) + "  "
    marker = _("pagina %(page)s van %(pages)s", page="\x00PAGE\x00", pages="\x00NUMPAGES\x00")
    for part in marker.split("\x00"):
        if part in ("PAGE", "NUMPAGES"):
            _add_field(footer, part)
        elif part:
            footer.add_run(part)
    for paragraph in (header, footer):
        for run in paragraph.runs:
            run.font.size = Pt(7.5)


def _docx_language(doc, language: str) -> None:
    """The document's language (spelling, and hyphenation of narrow table headers), with
    automatic hyphenation on."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    props = doc.styles["Normal"].element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), language)
    props.append(lang)
    hyphenation = OxmlElement("w:autoHyphenation")
    hyphenation.set(qn("w:val"), "true")
    _settings_insert(doc.settings.element, hyphenation, after="w:defaultTabStop")


def _settings_insert(settings, element, *, after: str | None = None,
                     before: str | None = None) -> None:
    """Put an element into settings.xml where the schema's sequence wants it (Word rejects
    a settings part in the wrong order)."""
    from docx.oxml.ns import qn

    if after is not None and (anchor := settings.find(qn(after))) is not None:
        anchor.addnext(element)
    elif before is not None and (anchor := settings.find(qn(before))) is not None:
        anchor.addprevious(element)
    else:
        settings.append(element)


def _add_field(paragraph, code: str) -> None:
    """A simple field (PAGE, NUMPAGES) Word computes when it lays out the page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), code)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "15")  # half-points: 7.5 pt, as the rest of the footer
    props.append(size)
    run.append(props)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _docx_toc(anchor, headings: list[tuple[int, str]]) -> None:
    """A TOC field over Heading 1-2 at ``anchor``: Word fills in the page numbers when it
    updates the field (it is marked dirty, and the settings ask to update fields on
    opening); until then the field shows the chapter titles."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def fld_char(kind: str):
        run = OxmlElement("w:r")
        char = OxmlElement("w:fldChar")
        char.set(qn("w:fldCharType"), kind)
        if kind == "begin":
            char.set(qn("w:dirty"), "true")
        run.append(char)
        return run

    instr_run = OxmlElement("w:r")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = ' TOC \\o "1-2" \\h \\z \\u '
    instr_run.append(instr)
    p = anchor._p
    p.append(fld_char("begin"))
    p.append(instr_run)
    p.append(fld_char("separate"))
    first = True
    paragraph = anchor
    for level, text in headings:
        if not first:
            new = OxmlElement("w:p")
            paragraph._p.addnext(new)
            paragraph = type(anchor)(new, anchor._parent)
        first = False
        paragraph.paragraph_format.left_indent = (level - 1) * 360 * 635  # 0.25" per level
        paragraph.add_run(text)
    paragraph._p.append(fld_char("end"))
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    _settings_insert(anchor.part.document.settings.element, update, before="w:compat")


def add_hyperlink(paragraph, url: str, text: str, bold: bool = False) -> None:
    """A clickable link in a paragraph (python-docx has no API for it)."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rel = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    props.append(style)
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), "154273")
    props.append(colour)
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    props.append(underline)
    if bold:
        props.append(OxmlElement("w:b"))
    run.append(props)
    node = OxmlElement("w:t")
    node.text = text
    node.set(qn("xml:space"), "preserve")
    run.append(node)
    link.append(run)
    paragraph._p.append(link)


def _docx_rule(doc, rule: dict[str, Any]) -> None:
    p = doc.add_paragraph(style="List Bullet")
    if rule["source_url"]:
        add_hyperlink(p, rule["source_url"], rule["title"])
    else:
        docx_language(p.add_run(rule["title"]), rule["title"])
    p.add_run(" \u2013 ")
    p.add_run(origin_label(rule["level"])).bold = True
    if rule["existing_room"]:
        p.add_run(". " + _("Bestaande ruimte:") + " ")
        docx_language(p.add_run(rule["existing_room"]), rule["existing_room"])


def _docx_caption(doc, text: str) -> None:
    p = doc.add_paragraph()
    p.add_run(text).bold = True
    p.paragraph_format.keep_with_next = True
    p.paragraph_format.space_after = 2 * 12700


def _docx_table(doc, header: list[str], rows: list[list[str]], *, total_last: bool = False,
                numeric_from: int = 1, numeric_to: int | None = None):
    """An editable Word table as wide as the text: columns sized to their content (text
    columns wider, number columns as wide as their longest word), a header row that repeats
    on every page, rows that do not break over pages, numbers right-aligned, the total (if
    any) as the last row in bold."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Light Grid Accent 1"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    numeric = range(numeric_from, numeric_to if numeric_to is not None else len(header))
    section = doc.sections[-1]
    widths = _column_widths(header, rows, numeric,
                            section.page_width - section.left_margin - section.right_margin)

    def fill(row, texts: Iterable[str], bold: bool = False, size: float = 8) -> None:
        for i, (cell, text) in enumerate(zip(row.cells, texts, strict=True)):
            cell.width = widths[i]
            cell.text = text
            paragraph = cell.paragraphs[0]
            if i in numeric:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            for run in paragraph.runs:
                run.font.size = Pt(size)
                if bold:
                    run.bold = True
        props = row._tr.get_or_add_trPr()
        props.append(OxmlElement("w:cantSplit"))

    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), "57")  # 1 mm, so that narrow number columns keep their words
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    table._tbl.tblPr.append(margins)
    fill(table.rows[0], header, bold=True, size=7.5)
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    for index, texts in enumerate(rows):
        fill(table.add_row(), texts, bold=total_last and index == len(rows) - 1)
    doc.add_paragraph()
    return table


def _column_widths(header: list[str], rows: list[list[str]], numeric: range,
                   available: int) -> list[int]:
    """Widths (EMU) adding up to ``available``: a number column gets room for its longest
    word or value, a text column for its longest word and a share of its average length."""
    weights: list[float] = []
    for i, title in enumerate(header):
        cells = [row[i] for row in rows[:200]]
        longest = max((len(word) for text in [title, *cells] for word in text.split()),
                      default=1)
        if i in numeric:
            weights.append(max(longest, 3) + 2)
        else:
            average = sum(len(c) for c in cells) / len(cells) if cells else len(title)
            weights.append(max(min(longest, 16), min(average * 0.7, 34), 6) + 2)
    total = sum(weights)
    return [int(available * w / total) for w in weights]


def _landscape(doc, on: bool) -> None:
    """Start a new page in landscape (``on``) or back in portrait, A4 either way."""
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Twips

    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE if on else WD_ORIENT.PORTRAIT
    wide, high = Twips(16838), Twips(11906)
    section.page_width, section.page_height = (wide, high) if on else (high, wide)


# --- tables shared by DOCX and XLSX ---

def sector_matrix(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Initiatives per area (rows, with the total last) and sector (columns in use)."""
    groups = [(area_label(a["code"]), a["sectors"]) for a in summary["areas"]]
    groups.append((_("Totaal"), summary["totals"]["sectors"]))
    order = current_taxonomy().codes("sectors")
    used = [c for c in order if any(g[1].get(c) for g in groups)]
    used += sorted({c for g in groups for c in g[1] if g[1][c]} - set(used))
    if not used:
        return [], []
    return ([_("Gebied")] + [sector_label(c) for c in used],
            [[label] + [str(values.get(c, 0)) for c in used] for label, values in groups])


def province_matrix(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Initiatives per province (rows) and area (columns, with the total last)."""
    areas = summary["areas"]
    totals = summary["totals"]["provinces"]
    provinces = [p for p in PROVINCES if totals.get(p)]
    provinces += sorted(set(totals) - set(provinces))
    if not provinces:
        return [], []
    return ([_("Provincie")] + [area_label(a["code"]) for a in areas] + [_("Totaal")],
            [[p] + [str(a["provinces"].get(p, 0)) for a in areas] + [str(totals[p])]
             for p in provinces])


def origin_groups(summary: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The origin rows grouped by their group, in the order given."""
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for row in summary["origins"]:
        if not out or out[-1][0] != row["group"]:
            out.append((row["group"], []))
        out[-1][1].append(row)
    return out


def theme_origins(theme: dict[str, Any]) -> str:
    text = ", ".join(origin_label(level) for level in theme["origins"]) or origin_label(
        "onbekend")
    if theme["mixed"]:
        text += " (" + _("gemengd") + ")"
    return text


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
        _("De kernboodschap noemt de thema's die de meeste scholen raken; bij gelijke aantallen "
          "gaat het thema met het grootste aandeel meldingen van ernst 3 of 4 (blokkeert een "
          "deel van of het hele initiatief) voor."),
        _("Per thema geeft de moderator bij elke regel aan waar die vandaan komt (wet, AMvB, "
          "ministeriële regeling, toezicht, sectorafspraak of bestuur/school). Een melding telt "
          "mee bij elke herkomst van de regels van haar thema; een thema met regels uit meer "
          "dan één groep heet gemengd."),
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
    changed = [(t["title"], schools_change_text(t, ch["previous"]))
               for t in summary["key_message"]["themes"] if t["schools_change"]]
    if changed:
        lines.append(_("Scholen per thema: %(list)s.",
                       list="; ".join(f"{title} {text}" for title, text in changed)))
    return lines


# --- PDF ---

def to_pdf(html: str, base_url: str) -> bytes:
    """Render the print template with WeasyPrint as a tagged PDF (PDF/UA-1: a structure
    tree with headings, tables and lists, the document title shown, the language set)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf(pdf_variant="pdf/ua-1")


# --- XLSX figures ---

class Col(NamedTuple):
    name: str
    type: str
    width: int


def _text_col(name: str, width: int = 30) -> Col:
    return Col(name, "tekst", width)


def _number_col(name: str, width: int = 12) -> Col:
    return Col(name, "geheel getal", width)


def to_xlsx(summary: dict[str, Any]) -> bytes:
    """The figures of the summary, one sheet per table (same numbers as the page), with Dutch
    column headers, numbers as numbers and a "Toelichting" sheet explaining each sheet."""
    count_names = [_("Initiatieven"), _("Scholen"), _("Lerenden"), _("Meldingen"),
                   _("Ernst 1"), _("Ernst 2"), _("Ernst 3"), _("Ernst 4"), _("Omzeild"),
                   _("Opgelost")]
    count_cols = [_number_col(n) for n in count_names]

    def counts(row: dict[str, Any]) -> dict[str, Any]:
        values = [row["initiatives"], row["schools"], row["learners"], row["obstacles"],
                  *(row["severity"][k] for k in SEVERITY_KEYS), row["worked_around"],
                  row["solved"]]
        return dict(zip(count_names, values, strict=True))

    book = XlsxBook()
    sheets: list[tuple[str, str]] = []

    def sheet(title: str, about: str, columns: list[Col], rows: Iterable[dict[str, Any]]
              ) -> None:
        sheets.append((title, about))
        ws = book.add_sheet(title, columns)
        for row in rows:
            ws.write(row)
        ws.close()

    meta = summary["meta"]
    km = summary["key_message"]
    previous = summary["changes"]["previous"]
    yes, no = _("ja"), _("nee")
    about_rows = _about_rows(summary)
    toelichting = book.add_sheet(_("Toelichting"), [_text_col(_("Onderdeel"), 28),
                                                    _text_col(_("Toelichting"), 100)])
    for key, value in about_rows:
        toelichting.write({_("Onderdeel"): key, _("Toelichting"): value})

    h = {k: str(v) for k, v in {
        "rank": _("Rang"), "theme": _("Thema"), "theme_id": _("Thema-id"), "area": _("Gebied"),
        "problem": _("Probleem"), "share": _("Aandeel ernst 3 en 4 (%)"),
        "change": _("Verandering scholen sinds vorige momentopname"),
        "sectors": _("Aantal sectoren"), "provinces": _("Aantal provincies"),
        "rules": _("Regels (herkomst)"), "mixed": _("Gemengde herkomst"),
        "ask": _("Vraag aan OCW"), "quote": _("Citaat"),
    }.items()}
    sheet(_("Kernboodschap"),
          _("De thema's die de meeste scholen raken (bij gelijke aantallen het grootste aandeel "
            "meldingen van ernst 3 of 4), met de regels, hun herkomst en de vraag aan OCW."),
          [_number_col(h["rank"], 6), _text_col(h["theme"], 40), _number_col(h["theme_id"], 9),
           _text_col(h["area"], 16), _text_col(h["problem"], 50),
           *(_number_col(n) for n in (_("Initiatieven"), _("Scholen"), _("Lerenden"),
                                      _("Meldingen"))),
           _number_col(h["share"], 14), _number_col(h["change"], 16),
           _number_col(h["sectors"]), _number_col(h["provinces"]),
           _text_col(h["rules"], 60), _text_col(h["mixed"], 10), _text_col(h["ask"], 50),
           _text_col(h["quote"], 50)],
          [{h["rank"]: rank, h["theme"]: t["title"], h["theme_id"]: t["id"],
            h["area"]: area_label(t["area"]), h["problem"]: t["problem"],
            _("Initiatieven"): t["initiatives"], _("Scholen"): t["schools"],
            _("Lerenden"): t["learners"], _("Meldingen"): t["reports"],
            h["share"]: round(t["severe_share"] * 100, 1),
            h["change"]: t["schools_change"] if previous else None,
            h["sectors"]: len(t["sectors"]), h["provinces"]: len(t["provinces"]),
            h["rules"]: rules_line(t), h["mixed"]: yes if t["mixed"] else no,
            h["ask"]: t["ask"], h["quote"]: t["quote"]["text"] if t["quote"] else ""}
           for rank, t in enumerate(km["themes"], start=1)])
    sheet(_("Gebieden"), _("Per gebied; de laatste rij is het totaal (een initiatief met "
                          "knelpunten in meer gebieden telt daar één keer)."),
          [_text_col(h["area"], 22), *count_cols],
          [{h["area"]: area_label(a["code"]), **counts(a)} for a in summary["areas"]]
          + [{h["area"]: _("Totaal"), **counts(summary["totals"])}])
    sheet(_("Thema's"), _("Per thema met minstens één melding, de meeste meldingen eerst."),
          [_text_col(h["theme"], 40), _number_col(h["theme_id"], 9), _text_col(h["area"], 16),
           _text_col(_("Herkomst"), 36), _text_col(h["mixed"], 10), *count_cols],
          [{h["theme"]: t["title"], h["theme_id"]: t["id"], h["area"]: area_label(t["area"]),
            _("Herkomst"): ", ".join(origin_label(lv) for lv in t["origins"]),
            h["mixed"]: yes if t["mixed"] else no, **counts(t)} for t in summary["themes"]])
    sheet(_("Herkomst"), origin_note(summary),
          [_text_col(_("Herkomst"), 28), _text_col(_("Groep"), 24), _number_col(_("Thema's")),
           _number_col(_("Waarvan gemengd")), *count_cols],
          [{_("Herkomst"): origin_label(o["level"]),
            _("Groep"): str(ORIGIN_GROUP_SHORT[o["group"]]), _("Thema's"): o["themes"],
            _("Waarvan gemengd"): o["mixed_themes"], **counts(o)} for o in summary["origins"]])
    spread_cols = [_text_col(_("Soort"), 10), _text_col(_("Naam"), 40)]
    sheet(_("Sectoren"), _("Initiatieven per sector: in totaal, per gebied en per thema."),
          [*spread_cols, _text_col(_("Sector"), 12), _number_col(_("Initiatieven"))],
          [{_("Soort"): kind, _("Naam"): name, _("Sector"): sector_label(code),
            _("Initiatieven"): n}
           for kind, name, row in _spread_groups(summary) for code, n in row["sectors"].items()])
    sheet(_("Provincies"), _("Initiatieven per provincie: in totaal, per gebied en per thema."),
          [*spread_cols, _text_col(_("Provincie"), 16), _number_col(_("Initiatieven"))],
          [{_("Soort"): kind, _("Naam"): name, _("Provincie"): province,
            _("Initiatieven"): n}
           for kind, name, row in _spread_groups(summary)
           for province, n in row["provinces"].items()])
    sheet(_("Regels"), _("De regels die scholen het vaakst noemen (hoogstens tien)."),
          [_text_col(_("Regel"), 50), _number_col(_("Meldingen")),
           _number_col(_("Initiatieven"))],
          [{_("Regel"): r["rule"], _("Meldingen"): r["obstacles"],
            _("Initiatieven"): r["initiatives"]} for r in summary["top_rules"]])
    sheet(_("Vragen"), _("Wat scholen van beleid vragen, per thema (hoogstens twintig per "
                         "thema), met hoe vaak."),
          [_text_col(h["theme"], 40), _text_col(_("Vraag"), 70), _number_col(_("Aantal"))],
          [{h["theme"]: g["title"] or _("Nog niet in een thema ingedeeld"),
            _("Vraag"): a["text"], _("Aantal"): a["count"]}
           for g in summary["policy_asks"] for a in g["asks"]])
    sheet(_("Kwartalen"), _("Gepubliceerde initiatieven per kwartaal van publicatie en "
                            "gemelde knelpunten per kwartaal waarin de school ze meldde."),
          [_text_col(_("Kwartaal"), 12), _number_col(_("Gepubliceerde initiatieven"), 16),
           _number_col(_("Gemelde knelpunten"), 16)],
          [{_("Kwartaal"): q["quarter"], _("Gepubliceerde initiatieven"): q["initiatives"],
            _("Gemelde knelpunten"): q["obstacles"]} for q in summary["quarters"]])
    nat_names = [_("Initiatieven"), _("Scholen"), _("Lerenden"), _("Meldingen"),
                 _("Waarvan vertrouwelijk"), _("Ernst 1"), _("Ernst 2"), _("Ernst 3"),
                 _("Ernst 4")]
    hidden = _("Niet getoond")
    sheet(_("Landelijk"), " ".join(national_paragraphs(summary)) + " " + _(
        "Een niet getoond cijfer is een lege cel; de kolom 'Niet getoond' noemt per rij welke "
        "cijfers dat zijn."),
          [_text_col(_("Soort"), 12), _text_col(h["area"], 16), _number_col(h["theme_id"], 9),
           _text_col(_("Gebied of thema"), 40), *(_number_col(n) for n in nat_names),
           _text_col(hidden, 30)],
          [_national_row(row, nat_names, hidden, h) for row in summary["national"]["rows"]])
    toelichting.write({})
    toelichting.write({_("Onderdeel"): _("Tabbladen"), _("Toelichting"): ""})
    for title, about in sheets:
        toelichting.write({_("Onderdeel"): title, _("Toelichting"): about})
    toelichting.close()
    with book.finish(title=_("Knelpuntenoverzicht"), subject=source_line(summary),
                     keywords=meta["filter_words"]) as out:
        return out.read()


NATIONAL_KINDS = {"total": _l("Totaal"), "area": _l("Gebied"), "theme": _l("Thema"),
                  "unthemed": _l("Zonder thema")}


def _national_row(row: dict[str, Any], names: list[str], hidden: str,
                  h: dict[str, str]) -> dict[str, Any]:
    values = [row["initiatives"], row["schools"], row["learners"], row["reports"],
              row["confidential"], *(row["severity"][k] for k in SEVERITY_KEYS)]
    return {
        _("Soort"): str(NATIONAL_KINDS.get(row["kind"], row["kind"])),
        h["area"]: area_label(row["area"]) if row["area"] else "",
        h["theme_id"]: row["theme_id"], _("Gebied of thema"): national_label(row),
        **dict(zip(names, values, strict=True)),
        hidden: ", ".join(n for n, v in zip(names, values, strict=True) if v is None),
    }


def _spread_groups(summary: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return ([(_("Totaal"), _("Alle gebieden"), summary["totals"])]
            + [(_("Gebied"), area_label(a["code"]), a) for a in summary["areas"]]
            + [(_("Thema"), t["title"], t) for t in summary["themes"]])


def _about_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    meta = summary["meta"]
    source = (_("Momentopname %(code)s", code=meta["snapshot"]) if meta["source"] == "snapshot"
              else _("Actuele gegevens"))
    rows = [
        (_("Titel"), _("Knelpuntenoverzicht gepersonaliseerd leren")),
        (_("Bron"), _("Register gepersonaliseerd leren; %(source)s.", source=source)),
        (_("Stand van de gegevens"), meta["data_date"][:16].replace("T", " ")),
        (_("Gemaakt op"), meta["generated_at"][:16].replace("T", " ")),
        (_("Selectie"), meta["filter_words"]),
        (_("Cijfers"), _("Exact, met vertrouwelijke meldingen (alleen voor adviseurs).")
         if meta["exact"] else _("Openbare meldingen; vertrouwelijke meldingen tellen alleen "
                                 "mee in het tabblad Landelijk.")),
        (_("Drempel kleine aantallen"), _("%(n)d scholen (tabblad Landelijk)",
                                          n=meta["threshold"])),
    ]
    if meta.get("withdrawn_since"):
        rows.append((_("Ingetrokken"), notices(summary)[-1]))
    rows += [(_("Werkwijze"), text) for text in method_paragraphs(summary)]
    rows.append((_("Kolommen"), _(
        "Initiatieven: aantal initiatieven; Scholen: verschillende combinaties van "
        "instellingscode en vestiging; Lerenden: som van de opgegeven aantallen per "
        "initiatief; Meldingen: gemelde knelpunten; Ernst 1 tot 4: meldingen per ernst (1 "
        "hindert, 2 vertraagt, 3 blokkeert een deel, 4 blokkeert het initiatief); Omzeild en "
        "Opgelost: meldingen met die status.")))
    return rows
