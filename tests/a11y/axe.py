"""Run the vendored axe-core (tests/a11y/vendor) in a Selenium-driven page.

``run_axe(driver, tags=WCAG_TAGS) -> list[dict]`` returns axe's violations for the current
page (WCAG 2.0 and 2.1, levels A and AA by default); ``axe_results(driver, ...)`` returns
``{"violations": [...], "incomplete": [...]}`` (axe's "needs review" results, e.g. colour
contrast over an image, a gradient or an overlapping element: see tests/a11y/contrast.py);
``format_violations(violations)`` makes them readable in an assertion message.
"""
from __future__ import annotations

from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_JS = Path(__file__).with_name("vendor") / "axe.min.js"
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

_source: str | None = None


def axe_source() -> str:
    global _source
    if _source is None:
        _source = AXE_JS.read_text(encoding="utf-8")
        assert f"axe v{AXE_VERSION}" in _source[:200], "vendored axe-core version mismatch"
    return _source


def axe_results(driver, tags=WCAG_TAGS, context=None) -> dict[str, list[dict]]:
    """Inject axe-core (needs JavaScript on) and return its violations and incomplete
    ("needs review") results for ``tags``."""
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(axe_source())
    result = driver.execute_async_script(
        """
        const [context, tags, done] = arguments;
        axe.run(context || document, {runOnly: {type: 'tag', values: tags},
                                      resultTypes: ['violations', 'incomplete']})
           .then(r => done({violations: r.violations, incomplete: r.incomplete}))
           .catch(e => done({error: String(e)}));
        """,
        context, list(tags),
    )
    assert "error" not in result, result.get("error")
    return {"violations": result["violations"], "incomplete": result["incomplete"]}


def run_axe(driver, tags=WCAG_TAGS, context=None) -> list[dict]:
    """Inject axe-core (needs JavaScript on) and return the violations for ``tags``."""
    return axe_results(driver, tags, context)["violations"]


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            summary = node.get("failureSummary", "").splitlines()[-1:]
            lines.append(f"    {node['target']}: {summary}")
            lines.append(f"      {node['html'][:200]}")
    return "\n".join(lines)
