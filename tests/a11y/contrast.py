"""WCAG 2.1 contrast and reflow checks computed by the tests themselves, independent of axe.

axe-core reports text whose background it cannot determine (over an image, a gradient, an
overlapping or partly hidden element, SVG text, a glyph it does not trust) only as
"incomplete"; the staff "Uitloggen" button on the header colour hid there (issue 19). For each
such node the browser gives us the text's own colour and where its glyphs are; the text is then
made transparent, the page photographed and the real background pixels behind the glyphs read
with Pillow. The ratio is the WCAG formula below, against every background colour under the
text (the worst one counts).

- ``contrast_ratio(a, b)``, ``relative_luminance(rgb)``, ``composite(top, bottom)``,
  ``parse_css_color(text)``: the WCAG 2.1 definitions (1.4.3, 1.4.11).
- ``check_incomplete_contrast(driver, axe_incomplete)``: failures (strings) for axe's incomplete
  colour-contrast nodes on the current page.
- ``check_control_boundaries(driver)``: form fields whose boundary is below 3:1 (1.4.11).
- ``focus_indicator_failures(samples)``: focus indicators below 3:1 against what is behind.
- ``check_reflow(driver, width)``: narrows the viewport, finds what makes the page wider than
  it (1.4.10: no horizontal scrolling at 320 CSS px; we check a 390 px window, a common
  phone, less its scrollbar).
"""
from __future__ import annotations

import io
import math
import re
import time

TEXT_RATIO, LARGE_TEXT_RATIO, NON_TEXT_RATIO = 4.5, 3.0, 3.0
PHONE_WIDTH = 390

RGB = tuple[float, float, float]
RGBA = tuple[float, float, float, float]


# --- the WCAG definitions --------------------------------------------------------------------

def parse_css_color(text: str) -> RGBA:
    """``rgb(1, 2, 3)`` / ``rgba(1, 2, 3, 0.5)`` / ``rgb(1 2 3 / 50%)`` / ``transparent`` as
    computed by the browser; anything else (``color(...)``, ``oklch(...)``) is an error."""
    text = text.strip()
    if text == "transparent":
        return (0.0, 0.0, 0.0, 0.0)
    match = re.fullmatch(r"rgba?\(\s*([^)]*)\)", text)
    if not match:
        raise ValueError(f"unsupported colour {text!r}")
    parts = [p for p in re.split(r"[\s,/]+", match.group(1)) if p]
    if len(parts) not in (3, 4):
        raise ValueError(f"unsupported colour {text!r}")
    r, g, b = (float(p) for p in parts[:3])
    alpha = 1.0
    if len(parts) == 4:
        alpha = float(parts[3][:-1]) / 100 if parts[3].endswith("%") else float(parts[3])
    return (r, g, b, alpha)


def composite(top: RGBA, bottom: RGB) -> RGB:
    """``top`` painted with its alpha over the opaque ``bottom`` (source-over)."""
    alpha = top[3]
    return tuple(top[i] * alpha + bottom[i] * (1 - alpha) for i in range(3))  # type: ignore[return-value]


def relative_luminance(rgb: RGB) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour with 0-255 channels."""
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    """(L1 + 0.05) / (L2 + 0.05), L1 the lighter: 1 to 21."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def required_text_ratio(font_px: float, bold: bool) -> float:
    """4.5:1, or 3:1 for large text: at least 18pt (24px), or 14pt (18.66px) and bold."""
    large = font_px >= 24 or (bold and font_px >= 18.66)
    return LARGE_TEXT_RATIO if large else TEXT_RATIO


def flatten(layers: list[str]) -> RGB:
    """The colour seen through ``layers`` of background colours (innermost first) over the
    white canvas."""
    colour: RGB = (255.0, 255.0, 255.0)
    for layer in reversed(layers):
        colour = composite(parse_css_color(layer), colour)
    return colour


def _hex(rgb) -> str:
    return "#" + "".join(f"{round(v):02x}" for v in rgb[:3])


# --- incomplete text contrast: glyph boxes and real background pixels ------------------------

# For each axe target: the text's colour, opacity, size and weight; then the text (not its
# background) is made transparent until RESTORE_JS runs. The elements stay in
# window.__a11yNodes for BOXES_JS.
PREPARE_JS = r"""
const targets = arguments[0];
const hidden = window.__a11yHidden = [];
const nodes = window.__a11yNodes = [];
const scrolled = window.__a11yScrolled = new Map([[document.scrollingElement, null]]);
const out = [];
for (const target of targets) {
  const selector = target[target.length - 1];
  const el = typeof selector === 'string' ? document.querySelector(selector) : null;
  nodes.push(el);
  if (!el) { out.push({error: 'element not found (frame or shadow DOM?)'}); continue; }
  const s = getComputedStyle(el);
  const svg = el instanceof SVGElement;
  let alpha = svg ? parseFloat(s.fillOpacity) : 1;
  for (let a = el; a; a = a.parentElement) {
    alpha *= parseFloat(getComputedStyle(a).opacity);
    if (a.scrollWidth > a.clientWidth || a.scrollHeight > a.clientHeight) scrolled.set(a, null);
  }
  let scale = 1;
  if (svg && el.getScreenCTM) { const m = el.getScreenCTM(); if (m) scale = Math.hypot(m.a, m.b); }
  out.push({
    text: (el.textContent || '').trim().slice(0, 60),
    html: el.outerHTML.slice(0, 160),
    colour: svg ? s.fill : (s.webkitTextFillColor || s.color),
    alpha: alpha, fontPx: parseFloat(s.fontSize) * scale,
    bold: parseInt(s.fontWeight, 10) >= 700,
    inactive: !!el.closest(':disabled, [aria-disabled="true"]'),
  });
  hidden.push([el, el.getAttribute('style')]);
}
for (const box of scrolled.keys()) scrolled.set(box, [box.scrollLeft, box.scrollTop]);
// hide only after reading every colour: a hidden parent would pass "transparent" on
for (const [el] of hidden) {
  for (const [prop, value] of [['color', 'transparent'], ['-webkit-text-fill-color', 'transparent'],
                               ['fill', 'transparent'], ['stroke', 'transparent'],
                               ['text-shadow', 'none'], ['text-decoration-color', 'transparent']])
    el.style.setProperty(prop, value, 'important');
}
return out;
"""

# arguments: the indices of the nodes still to photograph and the one to scroll into view
# first. Returns per index the boxes of the node's own text as they are on screen now
# (viewport coordinates, clipped by the viewport and by scrolling/clipping ancestors) and
# whether that is all of its text.
WHERE_JS = r"""
function where() {
  const boxes = [...(window.__a11yScrolled || new Map()).keys()];
  return JSON.stringify(boxes.map(b => [b.scrollLeft, b.scrollTop]));
}
"""

BOXES_JS = r"""
//WHERE
const [indices, first, done] = arguments;
const nodes = window.__a11yNodes;
// to the top left of any scroll box it is in and to the top of the viewport: as much as
// possible after it fits on the same photograph. Not scrollIntoView: that also scrolls boxes
// with overflow: hidden, which their scripts put back (Leaflet's map) before the photograph.
function reveal(el) {
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    const s = getComputedStyle(a), r = el.getBoundingClientRect(), c = a.getBoundingClientRect();
    if (/auto|scroll/.test(s.overflowX) && a.scrollWidth > a.clientWidth)
      a.scrollLeft += r.left - c.left - a.clientLeft;
    if (/auto|scroll/.test(s.overflowY) && a.scrollHeight > a.clientHeight)
      a.scrollTop += r.top - c.top - a.clientTop;
  }
  const r = el.getBoundingClientRect();
  const view = document.documentElement;
  window.scrollBy(r.left < 0 || r.right > view.clientWidth ? r.left : 0, r.top - 8);
}
if (first !== null) reveal(nodes[first]);
const result = indices.map(i => {
  const el = nodes[i];
  const boxes = [];
  let full = true;
  const view = document.documentElement;  // the viewport without its scrollbars
  const add = r => {
    let [left, top] = [Math.max(r.left, 0), Math.max(r.top, 0)];
    let right = Math.min(r.right, view.clientWidth), bottom = Math.min(r.bottom, view.clientHeight);
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const as = getComputedStyle(a);
      if (as.overflowX !== 'visible' || as.overflowY !== 'visible') {
        const c = a.getBoundingClientRect();
        left = Math.max(left, c.left); top = Math.max(top, c.top);
        right = Math.min(right, c.right); bottom = Math.min(bottom, c.bottom);
      }
    }
    if ((right - left) * (bottom - top) < (r.right - r.left) * (r.bottom - r.top) - 1) full = false;
    if (right - left >= 1 && bottom - top >= 1) boxes.push([left, top, right, bottom]);
  };
  let text = false;
  for (const node of el.childNodes) {
    if (node.nodeType !== Node.TEXT_NODE || !node.data.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) { text = true; add(r); }
  }
  if (!text) add(el.getBoundingClientRect());
  return [boxes, full];
});
// the photograph must show this scroll position: let two frames be drawn first
requestAnimationFrame(() => requestAnimationFrame(() => done(
  {nodes: result, where: where(), offset: [scrollX, scrollY], dpr: devicePixelRatio})));
""".replace("//WHERE", WHERE_JS)

# Where the page is: checked again after the photograph (a script may have scrolled since).
SCROLLED_JS = WHERE_JS + "return where();"

RESTORE_JS = r"""
for (const [el, style] of (window.__a11yHidden || []).reverse()) {
  if (style === null) el.removeAttribute('style'); else el.setAttribute('style', style);
}
for (const [box, [left, top]] of (window.__a11yScrolled || new Map())) {
  box.scrollLeft = left; box.scrollTop = top;
}
window.__a11yHidden = []; window.__a11yNodes = []; window.__a11yScrolled = new Map();
"""


def _photograph(driver, area: tuple[float, float, float, float], page_offset) -> tuple:
    """A PNG of ``area`` (viewport coordinates) at device resolution, as a Pillow image, and
    the viewport point its top left pixel shows."""
    import base64

    from PIL import Image

    x0, y0 = math.floor(area[0]), math.floor(area[1])
    clip = {"x": x0 + page_offset[0], "y": y0 + page_offset[1],  # page coordinates
            "width": math.ceil(area[2]) - x0, "height": math.ceil(area[3]) - y0, "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "clip": clip})
    image = Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")
    return image, (x0, y0)


def _background_colours(driver, count: int, pending: list[int]) -> list[set[RGB]]:
    """The distinct pixel colours behind the (transparent) text of each prepared node:
    scroll the first node still to do into view, photograph the part of the viewport with the
    nodes wholly on screen then (the first one in any case), read their pixels, repeat."""
    found: list[set[RGB]] = [set() for _ in range(count)]
    first: int | None = None  # the first photograph: as the page is
    while pending:
        for _attempt in range(3):
            shown = driver.execute_async_script(BOXES_JS, pending, first)
            taken = {i: boxes for i, (boxes, full) in zip(pending, shown["nodes"], strict=True)
                     if boxes and (full or i == first)}
            every = [box for boxes in taken.values() for box in boxes]
            if not every:
                break
            area = (min(b[0] for b in every), min(b[1] for b in every),
                    max(b[2] for b in every), max(b[3] for b in every))
            image, origin = _photograph(driver, area, shown["offset"])
            if driver.execute_script(SCROLLED_JS) == shown["where"]:
                break
        dpr = shown["dpr"]
        for i, boxes in taken.items():
            for x0, y0, x1, y1 in boxes:
                crop = (math.ceil((x0 - origin[0]) * dpr), math.ceil((y0 - origin[1]) * dpr),
                        min(image.width, math.floor((x1 - origin[0]) * dpr)),
                        min(image.height, math.floor((y1 - origin[1]) * dpr)))
                if crop[2] > crop[0] and crop[3] > crop[1]:
                    region = image.crop(crop)
                    colours = region.getcolors(maxcolors=region.width * region.height) or []
                    found[i].update(tuple(float(v) for v in c)  # type: ignore[misc]
                                    for _n, c in colours)
        left_over = [i for i in pending if i not in taken and i != first]
        pending, first = left_over, (left_over[0] if left_over else None)
    return found


def check_incomplete_contrast(driver, incomplete: list[dict]) -> list[str]:
    """Compute the contrast of every node axe left as "incomplete" for colour-contrast; return
    a failure line per node that is below 4.5:1 (3:1 large text) or cannot be computed."""
    nodes = [n for rule in incomplete if rule["id"] == "color-contrast" for n in rule["nodes"]]
    if not nodes:
        return []
    try:
        infos = driver.execute_script(PREPARE_JS, [n["target"] for n in nodes])
        found = [i for i, info in enumerate(infos) if "error" not in info]
        backgrounds = _background_colours(driver, len(nodes), found)
    finally:
        driver.execute_script(RESTORE_JS)
    failures = []
    for node, info, behind in zip(nodes, infos, backgrounds, strict=True):
        where = f"{node['target']} {info.get('text') or info.get('html', '')!r}"
        if "error" in info:
            failures.append(f"{where}: {info['error']}")
            continue
        if info["inactive"]:
            continue  # WCAG 1.4.3 exempts inactive (disabled) controls
        if not behind:
            failures.append(f"{where}: not on screen, even scrolled into view")
            continue
        fg = parse_css_color(info["colour"])
        fg = (*fg[:3], fg[3] * info["alpha"])
        needed = required_text_ratio(info["fontPx"], info["bold"])
        worst, worst_bg = min((contrast_ratio(composite(fg, bg), bg), bg) for bg in behind)
        if worst < needed:
            failures.append(f"{where}: {worst:.2f}:1 < {needed}:1 "
                            f"({_hex(composite(fg, worst_bg))} on {_hex(worst_bg)})")
    return failures


# --- non-text contrast of form fields (WCAG 1.4.11) ------------------------------------------

# The background layers behind an element: background colours from the element outwards up
# to the first opaque one ("image" when a background image or gradient is in the way).
LAYERS_JS = r"""
window.__a11yLayers = function (el) {
  const layers = [];
  for (; el; el = el.parentElement) {
    const s = getComputedStyle(el);
    if (s.backgroundImage && s.backgroundImage !== 'none') return layers.concat(['image']);
    layers.push(s.backgroundColor);
    if (/^rgb\(/.test(s.backgroundColor)) break;
  }
  return layers;
};
"""

CONTROLS_JS = LAYERS_JS + r"""
const out = [];
const fields = 'input:not([type=hidden]):not([type=checkbox]):not([type=radio])'
             + ':not([type=range]):not([type=color]):not([type=image]):not([type=submit])'
             + ':not([type=button]):not([type=reset]), select, textarea';
for (const el of document.querySelectorAll(fields)) {
  const r = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  if (el.disabled || r.width <= 2 || r.height <= 2 || s.visibility === 'hidden') continue;
  const border = parseFloat(s.borderBottomWidth) >= 1 && s.borderBottomStyle !== 'none';
  out.push({html: el.outerHTML.slice(0, 140), border: border ? s.borderBottomColor : null,
            fill: window.__a11yLayers(el), behind: window.__a11yLayers(el.parentElement)});
}
return out;
"""


def check_control_boundaries(driver) -> list[str]:
    """Text fields, selects and text areas must be recognisable: their border, or their own
    fill, at least 3:1 against the background around them."""
    failures = []
    for field in driver.execute_script(CONTROLS_JS):
        if "image" in field["behind"] or "image" in field["fill"]:
            failures.append(f"{field['html']}: background image behind a field: not computed")
            continue
        behind = flatten(field["behind"])
        fill = flatten(field["fill"] + field["behind"])
        candidates = [contrast_ratio(fill, behind)]
        if field["border"]:
            candidates.append(contrast_ratio(composite(parse_css_color(field["border"]), fill),
                                             behind))
        if max(candidates) < NON_TEXT_RATIO:
            failures.append(f"{field['html']}: boundary {max(candidates):.2f}:1 < 3:1 "
                            f"against {_hex(behind)}")
    return failures


# --- focus indicators (WCAG 1.4.11) ----------------------------------------------------------

def _shadow_colours(box_shadow: str) -> list[str]:
    return re.findall(r"rgba?\([^)]*\)", box_shadow or "")


def focus_indicator_failures(samples: list[dict]) -> list[str]:
    """``samples``: {html, outline (colour or None), shadow (computed box-shadow), behind
    (background layers around the element)}. The outline or a shadow ring must reach 3:1
    against the background around the element."""
    failures = []
    for sample in samples:
        if "image" in sample["behind"]:
            failures.append(f"{sample['html']}: background image around the focus: not computed")
            continue
        behind = flatten(sample["behind"])
        rings = ([sample["outline"]] if sample["outline"] else []) + _shadow_colours(
            sample["shadow"])
        ratios = [contrast_ratio(composite(parse_css_color(c), behind), behind) for c in rings]
        if not ratios or max(ratios) < NON_TEXT_RATIO:
            best = max(ratios, default=1.0)
            failures.append(f"{sample['html']}: focus indicator {best:.2f}:1 < 3:1 "
                            f"against {_hex(behind)}")
    return failures


# --- reflow: no horizontal scrolling on a phone (WCAG 1.4.10) --------------------------------

OVERFLOW_JS = r"""
const limit = document.documentElement.clientWidth;
// inside a scrolling/clipping box that fits (an absolutely positioned element only when that
// box contains its containing block)
function clipped(el) {
  const abs = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX === 'visible') continue;
    if (abs && !(el.offsetParent && (a === el.offsetParent || a.contains(el.offsetParent))))
      continue;
    if (a.getBoundingClientRect().right <= limit + 0.5) return true;
  }
  return false;
}
const sticksOut = el => el.getBoundingClientRect().right > limit + 0.5 && !clipped(el);
const wide = [];
for (const el of document.body.querySelectorAll('*')) {
  if (!el.getClientRects().length || !sticksOut(el)) continue;
  // only the innermost culprits: no child of it sticks out as well
  if ([...el.children].some(sticksOut)) continue;
  const r = el.getBoundingClientRect();
  wide.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
            + `${el.classList.length ? '.' + [...el.classList].join('.') : ''} `
            + `(right edge ${Math.round(r.right)}px): `
            + (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 50));
}
return wide.slice(0, 6);
"""


def _wait_for_window_width(driver, emulated: int, timeout: float = 3.0) -> None:
    """Chrome applies a cleared viewport override asynchronously (more slowly on a busy
    machine): wait until the page sees the window's own width again."""
    deadline = time.monotonic() + timeout
    while driver.execute_script("return innerWidth") == emulated:
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)


def check_reflow(driver, width: int = PHONE_WIDTH, narrow: bool = True,
                 save_as: str | None = None) -> str | None:
    """At ``width`` CSS px the page must not scroll sideways:
    ``document.documentElement.scrollWidth`` at most the width of the viewport without its
    scrollbar (``clientWidth``; on a phone the scrollbar takes no room, so this is the stricter
    form of ``scrollWidth <= innerWidth``). ``narrow``: emulate a viewport that wide for the
    check (Chrome DevTools, faster than resizing the window) and return to the window after;
    else the window is that wide already. Returns a description of the overflow or None
    (and saves a screenshot as test-artifacts/``save_as``.png)."""
    if narrow:
        height = driver.execute_script("return innerHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 0, "mobile": False})
    try:
        scroll_width, client_width, inner_width = driver.execute_script(
            "const d = document.documentElement;"
            "return [d.scrollWidth, d.clientWidth, window.innerWidth]")
        assert inner_width <= width, f"the viewport is not {width}px but {inner_width}px"
        if scroll_width <= client_width:
            return None
        culprits = driver.execute_script(OVERFLOW_JS)
        if save_as:
            from tests.fixtures.browser import save_artifacts

            save_artifacts(driver, save_as)
    finally:
        if narrow:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            _wait_for_window_width(driver, width)
    return (f"{scroll_width}px wide in a {client_width}px viewport ({inner_width}px window "
            f"with its scrollbar):\n      " + "\n      ".join(culprits))
