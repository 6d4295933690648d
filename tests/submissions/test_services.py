"""Service-layer details of a submission that the form tests do not see."""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from sqlalchemy import text

from registry.extensions import db
from registry.submissions import services
from registry.submissions.views import build_form
from registry.taxonomy.models import ObstacleArea
from tests.factories import AREA_CODES, DIMENSION_CODES, PHASE_CODES, SECTOR_CODES, initiative_data


def _options(form, field) -> list[str]:
    return [value for value, _label in re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)<',
                                                  str(field())) if value]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_form_choices_are_the_seeded_taxonomies_in_order(app, language):
    with app.test_request_context(), force_locale(language):
        form = build_form()
        assert _options(form, form.sector) == list(SECTOR_CODES)
        assert _options(form, form.phase) == list(PHASE_CODES)
        assert _options(form, form.obstacles.entries[0].form.area) == list(AREA_CODES)
        assert [e.form.code.data for e in form.dimensions.entries] == list(DIMENSION_CODES)
        labels = {c.value: c.label for c in form.sector.choices[1:]}
        expected = "Secondary vocational education (mbo)" if language == "en" else \
            "Middelbaar beroepsonderwijs (mbo)"
        assert str(labels["mbo"]) == expected


def test_form_choices_follow_a_changed_taxonomy(app):
    area = db.session.get(ObstacleArea, "overig")
    area.label_nl, area.position = "Iets anders", -1
    db.session.commit()
    try:
        with app.test_request_context():
            form = build_form()
            first = form.obstacles.entries[0].form.area.choices[1]
        assert (first.value, str(first.label)) == ("overig", "Iets anders")
    finally:
        db.session.execute(text("UPDATE obstacle_area SET label_nl = 'Overig', position = 5 "
                                "WHERE code = 'overig'"))
        db.session.commit()


def test_offline_location_is_stored_with_the_new_school(app):
    initiative = services.submit_initiative(initiative_data(postcode="8911 AB"))
    db.session.commit()
    db.session.expire_all()
    org = initiative.organisation
    assert org.geo_status == "resolved"
    assert org.province == "Fryslân"
    assert org.latitude is not None


def test_unexpected_geocoding_error_keeps_the_submission_and_flags_it(app, monkeypatch):
    def half_then_boom(org, online=False):
        org.latitude, org.province = 1.0, "Nergens"
        raise RuntimeError("bug")

    monkeypatch.setattr(services, "locate_organisation", half_then_boom)
    data = initiative_data()
    data.organisation.latitude, data.organisation.longitude = 52.09, 5.12  # a manual pin
    initiative = services.submit_initiative(data)
    db.session.commit()
    db.session.expire_all()
    org = initiative.organisation
    # What the failed attempt half-set is undone; the pin itself is kept, flagged for later.
    assert org.geo_status == "failed"
    assert (org.latitude, org.longitude, org.province) == (52.09, 5.12, None)
    assert org.geo_source == "manual"
