"""Service-layer details of a submission that the form tests do not see."""
from __future__ import annotations

from flask_babel import force_locale

from registry.extensions import db
from registry.submissions import services
from registry.submissions.services import area_choices, dimension_list, form_choices
from registry.taxonomy.models import ObstacleArea
from tests.factories import initiative_data


def test_form_choices_are_the_taxonomies_in_order_and_language(app):
    for language in ("nl", "en"):
        with app.test_request_context(), force_locale(language):
            areas, dimensions = form_choices()
            assert areas == area_choices()
            assert dimensions == [(d.code, d.label) for d in dimension_list()]
            assert len(areas) >= 6 and len(dimensions) == 8


def test_form_choices_follow_a_changed_taxonomy(app):
    area = db.session.get(ObstacleArea, "overig")
    area.label_nl, area.position = "Iets anders", -1
    db.session.commit()
    with app.test_request_context():
        areas, _dimensions = form_choices()
    assert areas[0] == ("overig", "Iets anders")


def test_offline_location_is_stored_with_the_new_school(app):
    initiative = services.submit_initiative(initiative_data(postcode="8911 AB"))
    db.session.commit()
    db.session.expire_all()
    org = initiative.organisation
    assert org.geo_status == "resolved" and org.province == "Fryslân"
    assert org.latitude is not None


def test_unexpected_geocoding_error_keeps_the_submission_and_flags_it(app, monkeypatch):
    import registry.geo.services as geo

    def half_then_boom(org, online=False):
        org.latitude, org.province = 1.0, "Nergens"
        raise RuntimeError("bug")

    monkeypatch.setattr(geo, "locate_organisation", half_then_boom)
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
