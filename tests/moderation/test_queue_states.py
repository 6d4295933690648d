"""Every status the queue's filter offers really filters (issue 19: "Samengevoegd" and
"Ingetrokken" quietly showed the pending list). The options are read from the page, the
expected entries from plain SQL."""
from __future__ import annotations

import re

from sqlalchemy import text

from registry.extensions import db
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative


def _options(html: str) -> list[str]:
    select = re.search(r'<select class="input" id="state" name="state">(.*?)</select>', html,
                       re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', select)


def test_every_status_option_filters_the_queue(client, login):
    titles = {}
    for state in (InitiativeState.UNCONFIRMED, InitiativeState.PENDING,
                  InitiativeState.PUBLISHED, InitiativeState.REJECTED,
                  InitiativeState.WITHDRAWN, InitiativeState.MERGED):
        titles[str(state)] = make_initiative(state=state, title=f"Entry {state}").title
    db.session.commit()
    login(client, "moderator")
    html = client.get("/moderatie/").get_data(as_text=True)
    options = _options(html)
    assert {"withdrawn", "merged", "all"} <= set(options)
    for value in options:
        page = client.get(f"/moderatie/?state={value}").get_data(as_text=True)
        assert re.search(rf'<option value="{value}" selected', page), value
        if value in ("pending", "revision", "all"):
            continue
        expected = set(db.session.execute(text(
            "SELECT title FROM initiative WHERE state = :s"), {"s": value}).scalars())
        shown = {t for t in titles.values() if t in page}
        assert shown == expected, value
    everything = client.get("/moderatie/?state=all").get_data(as_text=True)
    assert all(t in everything for t in titles.values())


def test_a_merged_or_withdrawn_entry_offers_no_merge_buttons(client, login):
    from registry.moderation.models import DuplicateFlag

    gone = make_initiative(state=InitiativeState.MERGED, title="Samengevoegd")
    first = make_initiative(state=InitiativeState.PENDING, title="Eerste")
    second = make_initiative(state=InitiativeState.PENDING, title="Tweede")
    for a, b in ((gone, first), (first, second)):
        low, high = sorted((a.id, b.id))
        db.session.add(DuplicateFlag(first_id=low, second_id=high, reasons=["names"],
                                     status="open"))
    db.session.commit()
    login(client, "moderator")
    merged_page = client.get(f"/moderatie/{gone.id}").get_data(as_text=True)
    item = merged_page.split(f'data-duplicate="{first.id}"')[1].split("</li>")[0]
    assert "Samenvoegen (deze behouden)" not in item
    assert "kan niet meer" in item
    active_page = client.get(f"/moderatie/{first.id}").get_data(as_text=True)
    item = active_page.split(f'data-duplicate="{second.id}"')[1].split("</li>")[0]
    assert "Samenvoegen (deze behouden)" in item
