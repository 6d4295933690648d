"""Each row checked like the public form, and compared with what the registry already holds.

``RowChecker`` validates a row with the submission form's own classes (``InitiativeForm``,
and ``ContactForm`` for the contact's name, role, address and phone: the consents are the
school's to give when it takes the entry over), so a row gets exactly the form's Dutch
messages. Building a form costs about 5 ms (it binds some seventy fields), so one form per
number of obstacles is built and then reused: each row is processed into it with WTForms'
own ``process`` of every field. ``tests/imports/test_checking.py`` holds it against a form
built afresh for every row.

``DuplicateIndex`` applies the rules of ``registry.moderation.duplicates`` (same institution
code and location, same postcode, similar school name and title by rapidfuzz with the same
thresholds) to the entries in the queue or published and to the rows before it in the file.
Code and postcode are looked up anywhere; names are compared within the same postcode region
(the first two digits), which keeps 10,000 rows against 10,000 entries to seconds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms.fields import FieldList, FormField

from registry.extensions import db
from registry.imports.fields import GROUP_LABELS, Row
from registry.moderation.duplicates import ACTIVE_STATES, NAME_THRESHOLD, TITLE_THRESHOLD
from registry.submissions.forms import ContactForm, InitiativeForm, form_to_data
from registry.submissions.models import Initiative, Organisation
from registry.submissions.services import ContactData, InitiativeData
from registry.taxonomy.services import Taxonomy

CONTACT_FIELDS = ("name", "role", "email", "phone")

# What became of a row
VALID = "valid"
INVALID = "invalid"
IMPORTED_BEFORE = "imported_before"  # its key is in import_row: imported from this source
REPEATED = "repeated"  # the same key earlier in this file
DUPLICATE = "duplicate"  # likely the same as an entry in the registry
DUPLICATE_IN_FILE = "duplicate_in_file"  # likely the same as an earlier row
IMPORTED = "imported"
STATUSES = (VALID, INVALID, IMPORTED_BEFORE, REPEATED, DUPLICATE, DUPLICATE_IN_FILE, IMPORTED)


def importable(status: str, include_duplicates: bool) -> bool:
    return status == VALID or (include_duplicates and status in (DUPLICATE, DUPLICATE_IN_FILE))


# --------------------------------------------------------------------------- the form

@dataclass
class Checked:
    """A row after the form: its data when valid, else the messages (label, message)."""

    errors: list[tuple[str, str]]
    data: InitiativeData | None


class RowChecker:
    """Validates rows with the submission form, reusing one form per number of obstacles."""

    def __init__(self, tax: Taxonomy) -> None:
        self.tax = tax
        self._forms: dict[int, tuple[InitiativeForm, list]] = {}
        self._contact: ContactForm | None = None

    def form_for(self, row: Row) -> InitiativeForm:
        """The initiative form holding this row (validated or not)."""
        cached = self._forms.get(row.obstacles)
        if cached is None:
            form = InitiativeForm(formdata=row.formdata, taxonomy=self.tax,
                                  meta={"csrf": False})
            self._forms[row.obstacles] = (form, list(form.obstacles.entries))
            return form
        form, entries = cached
        # ``validate`` drops empty obstacle rows from the list: give the form its rows back
        form.obstacles.entries = list(entries)
        _reprocess(form, row.formdata)
        return form

    def contact_for(self, formdata: MultiDict) -> ContactForm:
        if self._contact is None:
            self._contact = ContactForm(formdata=formdata, prefix="contact-",
                                        meta={"csrf": False})
        else:
            self._contact.process(formdata)
        return self._contact

    def check(self, row: Row) -> Checked:
        form = self.form_for(row)
        form.validate()
        errors = [(str(label), str(message)) for label, message in row.problems]
        errors += form_errors(form)
        contact = None
        if row.has_contact:
            contact_form = self.contact_for(row.formdata)
            contact_form.validate()
            for name in CONTACT_FIELDS:
                field_ = contact_form[name]
                errors += [(f"{_group_label('contact')}: {field_.label.text}", str(m))
                           for m in field_.errors]
            if not errors:
                contact = ContactData(
                    name=contact_form.name.data or "", role=contact_form.role.data or "",
                    email=(contact_form.email.data or "").lower(),
                    phone=contact_form.phone.data or "")
        if errors:
            return Checked(errors, None)
        data = form_to_data(form)
        data.contact = contact
        return Checked([], data)


def _group_label(group: str) -> str:
    return str(GROUP_LABELS[group])


def _reprocess(form: InitiativeForm, formdata: MultiDict) -> None:
    """Process ``formdata`` into an existing form, as building it would (WTForms
    ``Field.process`` on every field; the entries of a list keep their fields, which is
    what makes this cheap)."""
    for field_ in form:
        if isinstance(field_, FieldList):
            for entry in field_.entries:
                entry.form.process(formdata)
        else:
            field_.process(formdata)


def form_errors(form: InitiativeForm) -> list[tuple[str, str]]:
    """(label, message) of every error of the form, in its order: "Postcode", "Knelpunt 2:
    Ernst", "Leerdoelen (wat): Nu", "Knelpunten"."""
    out: list[tuple[str, str]] = []
    dimension_labels = form.dimension_labels
    for field_ in form:
        if isinstance(field_, FieldList):
            for position, entry in enumerate(field_.entries, start=1):
                if not isinstance(entry, FormField):
                    continue
                if field_.name == "dimensions":
                    prefix = str(dimension_labels.get(entry.form.code.data, entry.form.code.data))
                else:
                    prefix = f"{_obstacle_word()} {position}"
                for sub in entry.form:
                    out += [(f"{prefix}: {sub.label.text}", str(m)) for m in sub.errors]
            own = [str(m) for m in field_.errors if not isinstance(m, dict | list | tuple)]
            out += [(_list_label(field_.name), m) for m in own]
        else:
            out += [(str(field_.label.text), str(m)) for m in field_.errors]
    return out


def _obstacle_word() -> str:
    return str(GROUP_LABELS["obstacle"])


def _list_label(name: str) -> str:
    return str(GROUP_LABELS["dimensions" if name == "dimensions" else "obstacle"])


# --------------------------------------------------------------------------- duplicates

@dataclass
class Ref:
    """An entry of the registry or an earlier row of the file, as duplicates compare them."""

    kind: str  # "entry" | "row"
    number: int  # the initiative's id, or the row number
    title: str
    school: str
    reference: str = ""
    initiative_id: int | None = None  # a row's entry once it is imported
    title_folded: str = field(init=False, repr=False)
    school_folded: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.title_folded = (self.title or "").lower()
        self.school_folded = (self.school or "").lower()


@dataclass
class Match:
    ref: Ref
    reasons: list[str]
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.ref.kind, "number": self.ref.number, "title": self.ref.title,
                "school": self.ref.school, "reference": self.ref.reference,
                "reasons": self.reasons, "score": self.score}


def _compact_postcode(value: str | None) -> str:
    return "".join((value or "").split()).upper()


class DuplicateIndex:
    """The rules of ``registry.moderation.duplicates`` over many rows at once."""

    def __init__(self) -> None:
        self.by_code: dict[tuple[str, str], list[Ref]] = {}
        self.by_postcode: dict[str, list[Ref]] = {}
        self.regions: dict[str, tuple[list[str], list[Ref]]] = {}

    @classmethod
    def from_database(cls) -> DuplicateIndex:
        """Every entry that can still be somebody's duplicate (waiting or published)."""
        index = cls()
        rows = db.session.execute(
            select(Initiative.id, Initiative.reference, Initiative.title, Organisation.name,
                   Organisation.brin, Organisation.location_number, Organisation.postcode)
            .join(Organisation, Initiative.organisation_id == Organisation.id)
            .where(Initiative.state.in_(ACTIVE_STATES)).order_by(Initiative.id)
            .execution_options(yield_per=2000))
        for ident, reference, title, school, brin, location, postcode in rows:
            index.add(Ref("entry", ident, title, school, reference or "", ident),
                      brin, location, postcode)
        return index

    def add(self, ref: Ref, brin: str | None, location: str | None,
            postcode: str | None) -> None:
        if brin:
            self.by_code.setdefault((brin, location or ""), []).append(ref)
        compact = _compact_postcode(postcode)
        if compact:
            self.by_postcode.setdefault(compact, []).append(ref)
        names, refs = self.regions.setdefault(compact[:2], ([], []))
        names.append(ref.school_folded)
        refs.append(ref)

    def find(self, school: str, title: str, brin: str | None, location: str | None,
             postcode: str | None) -> list[Match]:
        """Likely duplicates, most likely first (the score of ``find_duplicates``)."""
        reasons: dict[int, tuple[Ref, list[str]]] = {}

        def note(ref: Ref, reason: str) -> None:
            reasons.setdefault(id(ref), (ref, []))[1].append(reason)

        if brin:
            for ref in self.by_code.get((brin, location or ""), ()):
                note(ref, "brin_location")
        compact = _compact_postcode(postcode)
        if compact:
            for ref in self.by_postcode.get(compact, ()):
                note(ref, "postcode")
        school_folded, title_folded = (school or "").lower(), (title or "").lower()
        names, refs = self.regions.get(compact[:2], ([], []))
        if names:
            for _name, _score, position in process.extract(
                    school_folded, names, scorer=fuzz.token_set_ratio,
                    score_cutoff=NAME_THRESHOLD, limit=None):
                ref = refs[position]
                if fuzz.token_set_ratio(title_folded, ref.title_folded) >= TITLE_THRESHOLD:
                    note(ref, "names")
        found = []
        for ref, why in reasons.values():
            ordered: list[str] = [r for r in ("brin_location", "postcode", "names")
                                  if r in why]
            school_score = fuzz.token_set_ratio(school_folded, ref.school_folded)
            title_score = fuzz.token_set_ratio(title_folded, ref.title_folded)
            score = max(school_score, title_score) / 100 + len(ordered)
            found.append(Match(ref, ordered, round(score, 3)))
        found.sort(key=lambda m: -m.score)
        return found


class Classifier:
    """What becomes of a valid row: imported before (its key), repeated in the file, a
    likely duplicate of an entry or of an earlier row, or new."""

    def __init__(self, index: DuplicateIndex, known_keys: set[str]) -> None:
        self.index = index
        self.known_keys = known_keys
        self.seen: dict[str, Ref] = {}

    def classify(self, number: int, key: str, data: InitiativeData) -> tuple[str, Match | None,
                                                                           Ref | None]:
        """(status, the best match, the row's own reference in the index)."""
        if key in self.known_keys:
            return IMPORTED_BEFORE, None, None
        if key in self.seen:
            earlier = self.seen[key]
            return REPEATED, Match(earlier, [], 0.0), None
        org = data.organisation
        matches = self.index.find(org.name, data.title, org.brin, org.location_number,
                                  org.postcode)
        ref = Ref("row", number, data.title, org.name)
        self.seen[key] = ref
        self.index.add(ref, org.brin, org.location_number, org.postcode)
        entry = next((m for m in matches if m.ref.kind == "entry"), None)
        if entry is not None:
            return DUPLICATE, entry, ref
        if matches:
            return DUPLICATE_IN_FILE, matches[0], ref
        return VALID, None, ref
