"""Rows are validated exactly as the submission form validates them, and likely duplicates are
found by moderation's own rules.

The oracles: a submission form built afresh for every row (the import reuses one form per
shape, for speed), and ``registry.moderation.duplicates.find_duplicates`` over the same
entries stored in the database."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from registry.extensions import db
from registry.imports.checking import DuplicateIndex, RowChecker
from registry.imports.fields import Row, row_key
from registry.moderation.duplicates import find_duplicates
from registry.submissions.forms import ContactForm, InitiativeForm, form_to_data
from registry.taxonomy.constants import InitiativeState
from registry.taxonomy.services import current as current_taxonomy
from tests.factories import AREA_CODES, DIMENSION_CODES, PHASE_CODES, SECTOR_CODES, make_initiative

# Values a cell may hold: valid ones, and the mistakes lists contain
TEXT = st.sampled_from(["", "  ", "Het Baken", "Eigen leerroute", "x" * 201, "a\u202eb",
                        "Léerlingen kiezen zelf", "=1+1", "\tinsprong"])
POSTCODE = st.sampled_from(["3511 AB", "3511ab", "12345", "", "9999 ZZ", "3511 SS"])
BRIN = st.sampled_from(["", "25LH", "25lh", "2LH", "ABCD"])
LOCATION = st.sampled_from(["", "01", "1", "ab"])
CHOICE = {
    "sector": st.sampled_from([*SECTOR_CODES, "", "vmbo"]),
    "phase": st.sampled_from([*PHASE_CODES, "", "klaar"]),
}
NUMBER = st.sampled_from(["", "12", "-3", "1200000", "tien", "2021", "1899", "2099"])
LEVEL = st.sampled_from(["0", "1", "2", "3", "4", "", "x"])
SEVERITY = st.sampled_from(["1", "2", "3", "4", "5", "", "hoog"])
STATUS = st.sampled_from(["open", "omzeild", "opgelost", "", "dicht"])
EMAIL = st.sampled_from(["anne@school.example", "geen-adres", "", "Anne@School.Example"])
PHONE = st.sampled_from(["", "030 123 45 67", "123", "+31 6 12345678"])


@st.composite
def rows(draw) -> Row:
    data = MultiDict({
        "school_name": draw(TEXT), "brin": draw(BRIN), "location_number": draw(LOCATION),
        "sector": draw(CHOICE["sector"]), "postcode": draw(POSTCODE), "city": draw(TEXT),
        "website": draw(st.sampled_from(["", "www.school.nl", "niet een site"])),
        "title": draw(TEXT), "summary": draw(TEXT), "description": draw(TEXT),
        "start_year": draw(NUMBER), "phase": draw(CHOICE["phase"]),
        "learners_count": draw(NUMBER), "staff_count": draw(NUMBER), "ict": draw(TEXT),
    })
    for i, code in enumerate(DIMENSION_CODES):
        data[f"dimensions-{i}-code"] = code
        data[f"dimensions-{i}-current_level"] = draw(LEVEL)
        data[f"dimensions-{i}-ambition_level"] = draw(LEVEL)
    obstacles = draw(st.integers(min_value=1, max_value=3))
    for i in range(obstacles):
        data.update({
            f"obstacles-{i}-area": draw(st.sampled_from([*AREA_CODES, ""])),
            f"obstacles-{i}-title": draw(TEXT), f"obstacles-{i}-description": draw(TEXT),
            f"obstacles-{i}-rule": draw(TEXT), f"obstacles-{i}-severity": draw(SEVERITY),
            f"obstacles-{i}-status": draw(STATUS), f"obstacles-{i}-workaround": draw(TEXT),
            f"obstacles-{i}-visibility": "public",
        })
    contact = draw(st.booleans())
    if contact:
        data.update({"contact-name": draw(TEXT), "contact-email": draw(EMAIL),
                     "contact-phone": draw(PHONE), "contact-role": draw(TEXT)})
    return Row(number=2, formdata=data, obstacles=obstacles, has_contact=contact, identity=[])


def fresh(row: Row):
    """The oracle: the submission form built for this row alone."""
    form = InitiativeForm(formdata=row.formdata, taxonomy=current_taxonomy(),
                          meta={"csrf": False})
    valid = form.validate()
    contact_errors = {}
    contact = None
    if row.has_contact:
        contact = ContactForm(formdata=row.formdata, prefix="contact-", meta={"csrf": False})
        contact.validate()
        contact_errors = {name: [str(m) for m in contact[name].errors]
                          for name in ("name", "role", "email", "phone") if contact[name].errors}
    errors = {k: v for k, v in form.errors.items()}
    data = form_to_data(form) if valid and not contact_errors else None
    return errors, contact_errors, data, contact


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=st.lists(rows(), min_size=1, max_size=5))
def test_a_reused_form_validates_like_a_fresh_one(app, sequence):
    with app.test_request_context("/"):
        checker = RowChecker(current_taxonomy())
        for row in sequence:
            reused = checker.form_for(row)
            reused.validate()
            errors, contact_errors, data, contact = fresh(row)
            assert reused.errors == errors
            checked = checker.check(row)
            if data is None:
                assert checked.data is None
                assert checked.errors
                if contact_errors:
                    labels = {label for label, _m in checked.errors}
                    assert any(label.startswith("Contactpersoon: ") for label in labels)
            else:
                assert checked.errors == []
                assert checked.data is not None
                expected_contact = checked.data.contact
                checked.data.contact = None
                assert checked.data == data
                if contact is not None:
                    assert expected_contact is not None
                    assert expected_contact.email == contact.email.data.lower()
                    assert expected_contact.consent_contact is False
                else:
                    assert expected_contact is None


def test_row_messages_name_the_field_as_the_form_labels_it(app):
    with app.test_request_context("/"):
        data = MultiDict({"postcode": "12345", "sector": "vo", "school_name": "X",
                          "city": "Ede", "title": "T", "summary": "S", "phase": "pilot",
                          "obstacles-0-area": "examineren", "obstacles-0-title": "K",
                          "obstacles-0-description": "D", "obstacles-0-severity": "9",
                          "obstacles-0-status": "open"})
        for i, code in enumerate(DIMENSION_CODES):
            data[f"dimensions-{i}-code"] = code
            data[f"dimensions-{i}-current_level"] = "7" if i == 0 else "0"
            data[f"dimensions-{i}-ambition_level"] = "0"
        checked = RowChecker(current_taxonomy()).check(
            Row(2, data, obstacles=1, has_contact=False, identity=[]))
    assert ("Postcode", "Vul een geldige postcode in, bijvoorbeeld 1234 AB.") in checked.errors
    assert ("Knelpunt 1: Ernst", "Kies hoe ernstig het knelpunt is.") in checked.errors
    assert any(label == "Leerdoelen (wat): Nu" for label, _m in checked.errors)


def test_the_row_key_ignores_case_and_spacing_but_not_the_source():
    one = row_key("Netwerk Zuid", ["het baken", "25lh", "", "3511AB", "eigen route"])
    assert one == row_key(" netwerk  zuid ", ["het baken", "25lh", "", "3511AB", "eigen route"])
    assert one != row_key("Netwerk Noord", ["het baken", "25lh", "", "3511AB", "eigen route"])
    assert len(one) == 64


ENTRIES = [
    # (school, title, brin, location, postcode)
    ("Het Baken College", "Eigen leerroute met coach", "25LH", "01", "3511 AB"),
    ("Het Baken College", "Eigen leerroute met coach", "25LH", "02", "3512 CD"),
    ("Baken College", "Eigen leerroute", "", "", "3515 EF"),
    ("Lyceum De Horizon", "Flexibel examineren", "", "", "3511 AB"),
    ("Lyceum De Horizon", "Iets heel anders", "31XY", "", "3520 GH"),
    ("Vakschool Kempen", "Leren op de werkplek", "31XY", "", "3530 JK"),
    ("Het Baken Colege", "Eigen leerroute met coaches", "", "", "3599 ZZ"),
]


@pytest.mark.parametrize("probe", range(len(ENTRIES)))
def test_duplicates_are_found_by_moderations_rules(app, probe):
    """Within a postcode region (all of these are in 35..), the index finds what
    ``find_duplicates`` finds, with the same reasons and scores."""
    stored = [make_initiative(state=InitiativeState.PENDING, school_name=school, title=title,
                              brin=brin, postcode=postcode, commit=False)
              for school, title, brin, _loc, postcode in ENTRIES]
    for entry, (_s, _t, _b, location, _p) in zip(stored, ENTRIES, strict=True):
        entry.organisation.location_number = location or None
    db.session.commit()
    target = stored[probe]
    expected = {c.initiative.id: (c.reasons, c.score) for c in find_duplicates(target)}
    index = DuplicateIndex.from_database()
    org = target.organisation
    found = {m.ref.number: (m.reasons, m.score)
             for m in index.find(org.name, target.title, org.brin, org.location_number,
                                 org.postcode) if m.ref.number != target.id}
    assert expected  # every entry here has a likely duplicate among the others
    assert found == expected
