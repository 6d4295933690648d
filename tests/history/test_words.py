"""Staff screens say what happened in words, never in internal codes (issue 19).

The history of an entry, its revision diff, the staff events on the entry page, the audit
log and the mail outbox are rendered for a seeded set of events that covers every code the
application can record. The codes are read from the source (``source_codes``: every
``record(...)``, ``EntryChange(...)``, ``record_change(...)``, ``queue_mail(kind=...)``), so
a new code path without words fails here. The oracle is the rendered text itself: no dotted
path ("obstacles.246.status"), no snake_case code, no English code word in the Dutch page,
no Dutch label in the English one.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.audit.services import record
from registry.extensions import db
from registry.history import services as history
from registry.history.models import ACTOR_TYPES, REVISION_STATUSES
from registry.mail.models import OutboxMessage
from registry.submissions.forms import InitiativeForm, ObstacleForm
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import CONFIDENTIAL, InitiativeState
from tests.factories import make_initiative
from tests.history import source_codes
from tests.test_i18n import KEYWORDS, english_catalog

LABELS_MODULE = Path(__file__).resolve().parents[2] / "registry" / "history" / "labels.py"

DOTTED = re.compile(r"\b[a-z_]+\.[a-z_0-9.]+\b")
SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")
EMAIL = re.compile(r"\S+@\S+")
# Words of the codes that are Dutch words as well (they may appear in Dutch text).
DUTCH_TOO = {"school", "link", "contact", "export", "open", "code", "mail", "pilot", "dossier",
             "status", "moderator", "reset", "totp", "geo", "in", "set", "view", "relay",
             "notify", "reply", "login", "logout", "erase", "role", "merge", "ocw", "name",
             "to", "not", "by", "kept"}
OBSTACLE_1 = "Examens op vaste momenten"
OBSTACLE_2 = "Diploma pas na vier jaar"
NEW_OBSTACLE = "Geen deelcertificaten"


class _Text(HTMLParser):
    """The visible text of a page's <main> (option texts included; no scripts)."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.depth += 1
        if tag in ("script", "style"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag == "main":
            self.depth -= 1
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if self.depth and not self.skip:
            self.parts.append(data)


def main_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


# --- the codes ----------------------------------------------------------------------------------

def code_words() -> set[str]:
    """English words of every code the application records, from its source."""
    codes = set(source_codes.audit_actions()) | source_codes.revision_kinds()
    codes |= source_codes.mail_kinds() | set(ACTOR_TYPES) | set(REVISION_STATUSES)
    codes |= {t for c in source_codes.audit_calls() for t in c.target_types | c.actors}
    codes |= {s.value for s in InitiativeState} | {"todo", "resolved", "failed"}
    words = {w for code in codes for w in re.findall(r"[a-z]+", code)}
    return {w for w in words if len(w) > 1} - DUTCH_TOO


def test_the_source_reader_finds_the_codes():
    """A check of the reader itself: codes known to exist are found."""
    actions = source_codes.audit_actions()
    assert {"initiative.publish", "initiative.reject", "contact.view", "user.password_change",
            "user.password_set", "obstacle.confidential_view", "logout"} <= actions
    assert {"create", "confirm", "edit", "publish", "reject", "merge", "merged",
            "erase"} <= source_codes.revision_kinds()
    assert {"confirm", "manage_link", "auth.invite"} <= source_codes.mail_kinds()
    reasons = {r for c in source_codes.audit_calls() for r in c.reasons}
    assert {"unknown account", "wrong password; account locked"} <= reasons
    assert {"cli", "system", "submitter"} <= {a for c in source_codes.audit_calls()
                                              for a in c.actors}


# --- the seeded events --------------------------------------------------------------------------

SAMPLES = {
    "state": "published", "role": "moderator", "active": True, "area": "examineren",
    "visibility": CONFIDENTIAL, "outcome": "pending", "revision": 3, "geo_status": "resolved",
    "geo_source": "school", "geo_precision": "address", "level": "wet",
    "status": "not_duplicate", "by_state": {"rejected": 2, "withdrawn": 1}, "format": "xlsx",
    "filter": "province=Limburg;sector=mbo", "cutoff": "2026-01-31T00:00:00",
    "decided_at": "2026-02-01T10:00:00", "consent": True, "accepts_messages": False,
    "rules": [{"title": "Examenbesluit", "level": "wet", "source_url": "",
               "existing_room": ""}],
    "fields_from_other": {"city": "Zwolle", "phase": "lopend", "sector": "vo"},
    "title": "Examens op vaste momenten", "description": "Alleen in juni.",
    "ask": "Ruimte om te experimenteren", "name": "Mia Jansen", "email": "mia@example.org",
    "other_reference": "REG-0002", "references": ["REG-0003", "REG-0004"],
    "code": "25LH01", "duo_name": "Het Baken", "municipality": "Utrecht",
    "province": "Utrecht", "latitude": 52.09, "longitude": 5.12,
    "obstacles": [4, 5], "ids": [6, 7], "obstacles_moved": [4], "obstacles_moved_back": [4],
}


def _proposal(entry, **changes):
    """The entry's content with changes, as a contact's edit (``InitiativeData``)."""
    data = history.data_from_snapshot(history.snapshot(entry))
    for name, value in changes.items():
        setattr(data, name, value)
    return data


@pytest.fixture
def seeded(app, make_user):
    """An entry with a revision of every kind, actor and status, an audit event of every
    action (with every reason, actor and before/after key), a mail of every kind."""
    admin = make_user("admin", name="Ada Beheerder")
    moderator = make_user("moderator", name="Mia Moderator")
    entry = make_initiative(state=InitiativeState.PENDING, obstacles=[
        ObstacleData(area="examineren", title=OBSTACLE_1, severity=3, description="Juni."),
        ObstacleData(area="diplomeren", title=OBSTACLE_2, severity=2, description="Lang."),
    ])
    # Every kind of revision, by every kind of actor, each changing something.
    mutations = [
        lambda: setattr(entry, "summary", "Een nieuwe samenvatting."),
        lambda: setattr(entry.organisation, "city", "Zwolle"),
        lambda: setattr(entry.organisation, "sector", "vo"),
        lambda: setattr(entry, "phase", "lopend"),
        lambda: setattr(entry.dimensions[0], "ambition_level", 3),
        lambda: setattr(entry.obstacles[0], "status", "omzeild"),
        lambda: setattr(entry.obstacles[0], "severity", 4),
        lambda: setattr(entry.obstacles[0], "visibility", CONFIDENTIAL),
        lambda: setattr(entry.obstacles[0], "pilot_interest", True),
        lambda: setattr(entry, "state", InitiativeState.PUBLISHED),
    ]
    for n, kind in enumerate(sorted(source_codes.revision_kinds())):
        before = history.snapshot(entry)
        mutations[n % len(mutations)]()
        actor_type = ACTOR_TYPES[n % len(ACTOR_TYPES)]
        history.record_change(entry, actor_type, kind, before,
                              actor=moderator if actor_type == "moderator" else None,
                              extra_changes={"contact": ["present", "erased"]}
                              if kind == "erase" else None)
    db.session.commit()
    # Pending, discarded (also superseded) and approved revisions, and the diff to review:
    # fields, a dimension, an obstacle changed, one removed and one added.
    discarded = history.propose_revision(entry, _proposal(entry, summary="Iets anders."),
                                         "submitter")
    history.discard_revision(discarded, moderator, "Niet nodig")
    approved = history.propose_revision(entry, _proposal(entry, learners_count=55),
                                        "submitter")
    db.session.commit()
    history.approve_revision(approved, moderator)
    db.session.commit()
    history.propose_revision(entry, _proposal(entry, title="Wordt vervangen"), "submitter")
    data = _proposal(entry, summary="Lerenden kiezen hun eigen tempo.", phase="opgeschaald")
    data.organisation.city = "Deventer"
    data.organisation.sector = "mbo"
    data.dimensions["tempo"] = (3, 3)
    first = next(o for o in data.obstacles if o.title == OBSTACLE_1)
    first.status, first.severity, first.area = "opgelost", 1, "certificeren"
    first.visibility, first.pilot_interest = "public", False
    data.obstacles = [first, ObstacleData(area="certificeren", title=NEW_OBSTACLE,
                                          severity=2, description="Nieuw.")]
    pending = history.propose_revision(entry, data, "submitter")
    db.session.commit()
    # Every audit action, with each of its reasons and keys, by every kind of actor.
    actors = [admin, moderator, "system", "submitter", "cli", "onbekend@example.org"]
    n = 0
    for call in source_codes.audit_calls():
        for action in sorted(call.actions):
            for reason in sorted(call.reasons) or [""]:
                target_type = min(call.target_types) if call.target_types else ""
                target_id = {"initiative": entry.id, "user": moderator.id}.get(target_type, 7)
                keys = sorted(call.keys)
                values = {k: SAMPLES.get(k, 2) for k in keys}
                if "decided_by" in values:
                    values["decided_by"] = moderator.id
                record(action, target_type=target_type, target_id=target_id,
                       before=dict(list(values.items())[: len(keys) // 2]) or None,
                       after=dict(list(values.items())[len(keys) // 2:]) or None,
                       reason=reason, actor=actors[n % len(actors)])
                n += 1
    # the diff keys of an edit, as moderation's edit writes them
    record("initiative.edit", target_type="initiative", target_id=entry.id, actor=moderator,
           before={k: v[0] for k, v in pending.changes.items()},
           after={k: v[1] for k, v in pending.changes.items()})
    # Every kind of mail, in every state the outbox shows.
    for i, kind in enumerate(sorted(source_codes.mail_kinds())):
        db.session.add(OutboxMessage(kind=kind, to_address="school@example.org",
                                     subject=f"Onderwerp {i}", body_text="Tekst",
                                     status=("queued", "sending", "failed")[i % 3],
                                     last_error="" if i % 3 != 2 else "Verbinding geweigerd"))
    db.session.commit()
    return {"entry": entry, "admin": admin, "pending": pending}


def _pages(client, entry, lang: str) -> dict[str, str]:
    query = f"?lang={lang}"
    pages = {"entry": client.get(f"/moderatie/{entry.id}{query}").get_data(as_text=True),
             "outbox": client.get(f"/beheer/mail{query}").get_data(as_text=True)}
    total = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
    for page in range(1, total // 50 + 2):
        pages[f"audit {page}"] = client.get(f"/beheer/audit{query}&page={page}").get_data(
            as_text=True)
    return pages


def _problems_in_dutch(text: str, words: set[str]) -> list[str]:
    clean = EMAIL.sub(" ", text)
    found = [f"dotted path {m!r}" for m in DOTTED.findall(clean)]
    found += [f"code {m!r}" for m in SNAKE.findall(clean)]
    found += [f"English code word {w!r}" for w in sorted(words)
              if re.search(rf"(?<![\w-]){w}(?![\w-])", clean)]
    reasons = {r for c in source_codes.audit_calls() for r in c.reasons if r}
    found += [f"English reason {r!r}" for r in sorted(reasons) if r in clean]
    return found


def test_staff_screens_show_words_not_codes(app, client, login, seeded):
    entry = seeded["entry"]
    login(client, "admin", name="Ada Beheerder")
    words = code_words()
    pages = _pages(client, entry, "nl")
    problems = {name: _problems_in_dutch(main_text(html), words)
                for name, html in pages.items()}
    assert not {k: v for k, v in problems.items() if v}, problems

    # what a moderator reads in the history, the diff and the staff events
    entry_text = main_text(pages["entry"])
    for expected in (
        "school (indiener)", "Mia Moderator (moderator)", "systeem", "Wijziging",
        "doorgevoerd", "wacht op beoordeling", "goedgekeurd", "verworpen",
        "vervangen door een nieuwere wijziging", "Contactgegevens gewist",
        f"Knelpunt 1 (“{OBSTACLE_1}”): Status", "Omzeild (workaround)", "Opgelost",
        f"Verwijderd knelpunt (“{OBSTACLE_2}”)", f"Nieuw knelpunt 2 (“{NEW_OBSTACLE}”)",
        "School: Plaats", "Deventer", "Status van de aanmelding", "Gepubliceerd",
        "Contactgegevens bekeken", "locatie:",
    ):
        assert expected in entry_text, expected
    # the field labels are the ones on the forms the data is entered with
    for form, name in ((InitiativeForm, "summary"), (InitiativeForm, "phase"),
                       (ObstacleForm, "visibility"), (ObstacleForm, "pilot_interest")):
        with app.test_request_context("/"):
            label = str(getattr(form, name).args[0])
        assert label in entry_text, name
    audit_text = " ".join(main_text(html) for name, html in pages.items()
                          if name.startswith("audit"))
    for expected in ("Contactgegevens bekeken", "Inloggen mislukt", "onbekend account",
                     "verkeerd wachtwoord; account tijdelijk geblokkeerd",
                     "Ada Beheerder (beheerder)", "school (indiener)",
                     "beheerder (opdrachtregel)", "Provincie: Limburg; Sector: mbo",
                     "Gepubliceerd", "Aanmelding nr.", "gevonden"):
        assert expected in audit_text, expected
    outbox_text = main_text(pages["outbox"])
    for expected in ("Bevestiging van een aanmelding", "mislukt", "in wachtrij",
                     "wordt verstuurd"):
        assert expected in outbox_text, expected


def _dutch_labels() -> set[str]:
    """The Dutch labels of the staff screens (the msgids of registry/history/labels.py, read
    by Babel's extractor) that English spells differently."""
    english = english_catalog()
    labels = set()
    for _line, message, _comments, _context in extract_from_file(
            "python", str(LABELS_MODULE), keywords=KEYWORDS):
        if isinstance(message, str) and "%(" not in message and len(message) > 3:
            if english.get(message) != message:
                labels.add(message)
    return labels


def test_english_staff_screens_show_english_words(client, login, seeded):
    """Needs the English catalogue to have the labels (a missing one shows in Dutch)."""
    login(client, "admin", name="Ada Beheerder")
    pages = _pages(client, seeded["entry"], "en")
    dutch = _dutch_labels()
    assert len(dutch) > 50
    texts = {name: main_text(html) for name, html in pages.items()}
    found = {name: sorted(label for label in dutch
                          if re.search(rf"(?<![\w-]){re.escape(label)}(?![\w-])", text))
             for name, text in texts.items()}
    assert not {k: v for k, v in found.items() if v}, found
    entry_text = texts["entry"]
    assert f"Obstacle 1 (“{OBSTACLE_1}”): Status" in entry_text
    assert "school (submitter)" in entry_text


@pytest.mark.parametrize(("lang", "empty", "filtered"), [
    ("nl", "Filter: alle initiatieven.", "Filter: Provincie: Limburg; Sector: mbo."),
    ("en", "Filter: all initiatives.", "Filter: Province: Limburg; Sector: mbo."),
])
def test_the_filter_sentence_is_in_the_language_of_the_page(client, lang, empty, filtered):
    page = main_text(client.get(f"/export/woordenboek?lang={lang}").get_data(as_text=True))
    assert empty in page
    page = main_text(client.get(f"/export/woordenboek?lang={lang}&province=Limburg"
                                f"&sector=mbo").get_data(as_text=True))
    assert filtered in page

