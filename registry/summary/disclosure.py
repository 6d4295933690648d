"""Disclosure control: the national figures that count confidential reports (issue 16).

The rule, written down for readers in docs/privacy.md ("Disclosure control"):

* Every public figure except this table counts **public** reports only. Public reports are
  shown with the school's name anyway, so those figures are exact, and no filter or
  difference of filters can reveal anything confidential.
* Confidential reports count only here: one fixed, unfiltered table with a row per area,
  per theme, for reports without a theme, and for the total. Per row and figure, the
  *contributors* are the distinct schools whose confidential reports change that figure
  (the figure minus the same figure over public reports only):

  - reports, confidential: schools with a confidential report in the row;
  - severity k: schools with a confidential report of severity k in the row;
  - initiatives, schools, learners: schools of initiatives that are in the row through
    confidential reports only.

* A row whose reports have 1 to ``threshold - 1`` contributors is suppressed altogether.
  Any other figure with 1 to ``threshold - 1`` contributors is suppressed (primary).
* Complementary suppression: reports and severity add up (the severities of a row to its
  reports; the areas to the total; the themes plus "no theme" to the total). In every such
  line, one suppressed cell could be recovered as the total minus the visible cells, so
  whenever a line has exactly one, the smallest other non-zero cell of the line (else its
  total) is suppressed too, until no line has exactly one.
* No sector or province breakdown is given here: a province or sector with one or two
  confidential reporters would point at them. Those breakdowns exist for public reports.

Staff (advisor and up) get the same table without suppression.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from registry.summary.figures import Facts, national_rows
from registry.taxonomy.services import Taxonomy

SEVERITY_KEYS = ("1", "2", "3", "4")
FIGURES = ("initiatives", "schools", "learners", "reports", "confidential",
           *(f"severity:{k}" for k in SEVERITY_KEYS))


def _values(row: dict[str, int]) -> dict[str, int]:
    return {figure: row[figure] for figure in FIGURES}


def _contributors(row: dict[str, int]) -> dict[str, int]:
    """Per figure, the schools whose confidential reports change it (module docstring)."""
    return {"initiatives": row["conf_only"], "learners": row["conf_only"],
            "schools": row["schools"] - row["public_schools"],
            "reports": row["conf_schools"], "confidential": row["conf_schools"],
            **{f"severity:{k}": row[f"conf_severity:{k}"] for k in SEVERITY_KEYS}}


def _suppress(keys: list[tuple], values: dict[tuple, dict[str, int]],
              contributors: dict[tuple, dict[str, int]], threshold: int,
              area_keys: list[tuple], theme_keys: list[tuple]) -> set[tuple[tuple, str]]:
    """The (row, figure) cells to hide (see the module docstring)."""
    hidden: set[tuple[tuple, str]] = set()
    for key in keys:
        counts = contributors[key]
        if 0 < counts["reports"] < threshold:
            hidden.update((key, figure) for figure in FIGURES)
            continue
        hidden.update((key, figure) for figure, n in counts.items() if 0 < n < threshold)

    # Lines that add up: (total cell, part cells).
    lines: list[tuple[tuple[tuple, str], list[tuple[tuple, str]]]] = []
    for key in keys:
        lines.append(((key, "reports"), [(key, f"severity:{k}") for k in SEVERITY_KEYS]))
    total = ("total",)
    for figure in ("reports", "confidential", *(f"severity:{k}" for k in SEVERITY_KEYS)):
        for parts in (area_keys, theme_keys):
            lines.append(((total, figure), [(key, figure) for key in parts]))
    for key in keys:  # reports = public + confidential, where the public part is known
        lines.append(((key, "reports"), [(key, "confidential")]))

    def value(cell: tuple[tuple, str]) -> int:
        return values[cell[0]][cell[1]]

    while True:
        _complete_lines(lines, hidden, value)
        # One line at a time is not the only attack: several lines together can pin a
        # hidden cell down (a linear system). Hide one more cell next to each such cell.
        determined = _determined_cells(lines, hidden)
        if not determined:
            return hidden
        before = len(hidden)
        for cell in determined:
            for total_cell, parts in lines:
                cells = [total_cell, *parts]
                if cell not in cells:
                    continue
                visible = [c for c in cells if c not in hidden]
                if visible:
                    hidden.add(min(visible, key=lambda c: (value(c) == 0, value(c))))
                    break
        if len(hidden) == before:  # its lines are all hidden: widen to any line it touches
            near = [c for total_cell, parts in lines
                    if any(x in hidden for x in (total_cell, *parts))
                    for c in (total_cell, *parts) if c not in hidden]
            if not near:
                return hidden
            hidden.add(min(near, key=lambda c: (value(c) == 0, value(c))))


def _complete_lines(lines, hidden: set, value) -> None:
    """Until no line has exactly one hidden cell: hide the smallest other non-zero cell of
    such a line (else its total)."""
    changed = True
    while changed:
        changed = False
        for total_cell, parts in lines:
            cells = [total_cell, *parts]
            if sum(cell in hidden for cell in cells) != 1:
                continue
            candidates = sorted((value(c), i) for i, c in enumerate(parts)
                                if c not in hidden and value(c) > 0)
            extra = parts[candidates[0][1]] if candidates else total_cell
            if extra in hidden:  # the hidden one is the total: hide the largest part
                visible = [c for c in parts if c not in hidden]
                if not visible:
                    continue
                extra = max(visible, key=value)
            hidden.add(extra)
            changed = True


def _determined_cells(lines, hidden: set) -> list:
    """Hidden cells whose value follows from the lines and the visible cells: those whose
    unit vector lies in the row space of the lines restricted to the hidden cells (exact
    Gauss-Jordan elimination over fractions)."""
    variables = sorted(hidden, key=repr)
    index = {cell: i for i, cell in enumerate(variables)}
    matrix: list[list[Fraction]] = []
    for total_cell, parts in lines:
        row = [Fraction(0)] * len(variables)
        if total_cell in index:
            row[index[total_cell]] += 1
        for cell in parts:
            if cell in index:
                row[index[cell]] -= 1
        if any(row):
            matrix.append(row)
    pivots: list[int] = []
    rank = 0
    for column in range(len(variables)):
        pivot = next((r for r in range(rank, len(matrix)) if matrix[r][column]), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        lead = matrix[rank][column]
        matrix[rank] = [x / lead for x in matrix[rank]]
        for r in range(len(matrix)):
            if r != rank and matrix[r][column]:
                factor = matrix[r][column]
                matrix[r] = [x - factor * y for x, y in zip(matrix[r], matrix[rank],
                                                            strict=True)]
        pivots.append(column)
        rank += 1
    return [variables[column] for r, column in enumerate(pivots)
            if sum(1 for x in matrix[r] if x) == 1]


def national_figures(facts: Facts, taxonomy: Taxonomy, themes: list[dict[str, Any]], *,
                     threshold: int, exact: bool) -> dict[str, Any]:
    """The unfiltered national table over ``facts`` (which must hold confidential reports:
    the facts of ``src.for_aggregates().with_confidential()`` without a filter; a school is
    ``registry.published.records.school_key``).

    Returns ``{"threshold", "exact", "rows": [{kind, area, theme_id, title, suppressed,
    initiatives, schools, learners, reports, confidential, severity{"1".."4"}}]}`` where a
    hidden figure is None. Rows: the total, every area (taxonomy order), every theme with
    reports (area, then title), and the reports without a theme.
    """
    theme_by_id = {t["id"]: t for t in themes}
    rows = national_rows(facts, list(theme_by_id))
    area_keys: list[tuple] = [("area", a.code) for a in taxonomy.areas]
    theme_keys: list[tuple] = [("theme", t["id"]) for t in sorted(themes, key=lambda t: (t["area"],
                                                                             t["title"]))
                  if ("theme", t["id"]) in rows]
    theme_keys.append(("unthemed",))
    keys = [("total",), *area_keys, *theme_keys]
    empty = dict.fromkeys(("initiatives", "learners", "schools", "reports", "confidential",
                           *(f"severity:{k}" for k in SEVERITY_KEYS), "conf_only",
                           "public_schools", "conf_schools",
                           *(f"conf_severity:{k}" for k in SEVERITY_KEYS)), 0)
    values = {key: _values(rows.get(key, empty)) for key in keys}
    contributors = {key: _contributors(rows.get(key, empty)) for key in keys}
    hidden = set() if exact else _suppress(keys, values, contributors, threshold,
                                           area_keys, theme_keys)
    labels = {a.code: (a.label_nl, a.label_en) for a in taxonomy.areas}
    out = []
    for key in keys:
        kind = key[0]
        shown = {figure: (None if (key, figure) in hidden else values[key][figure])
                 for figure in FIGURES}
        theme = theme_by_id.get(key[1]) if kind == "theme" else None
        out.append({
            "kind": kind,
            "area": key[1] if kind == "area" else (theme["area"] if theme else None),
            "theme_id": key[1] if kind == "theme" else None,
            "title": (labels[key[1]][0] if kind == "area"
                      else theme["title"] if theme else None),
            "suppressed": all(shown[f] is None for f in FIGURES),
            **{f: shown[f] for f in ("initiatives", "schools", "learners", "reports",
                                     "confidential")},
            "severity": {k: shown[f"severity:{k}"] for k in SEVERITY_KEYS},
        })
    return {"threshold": threshold, "exact": exact, "rows": out}
