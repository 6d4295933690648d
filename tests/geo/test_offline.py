"""The offline geocoding path: DUO schools, mbo institutions, PC4 centroids and polygons."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from registry.geo import services
from registry.geo.directory import directory
from registry.submissions.models import Initiative, Organisation
from registry.taxonomy.constants import PROVINCES, InitiativeState
from tests.conftest import csrf_token_from
from tests.factories import form_post, make_initiative


def org(**fields) -> Organisation:
    defaults = {"name": "Onbekende school", "brin": "99ZZ", "sector": "po", "postcode": ""}
    return Organisation(**{**defaults, **fields})


def test_polygons_give_the_canonical_province_and_municipality(app):
    d = directory()
    assert d.regions_at(53.2012, 5.7999) == ("Leeuwarden", "Fryslân")
    assert d.regions_at(51.4416, 5.4697) == ("Eindhoven", "Noord-Brabant")
    assert d.regions_at(52.3676, 4.9041)[1] == "Noord-Holland"
    assert d.regions_at(50.8514, 5.6910)[1] == "Limburg"
    assert set(d.provinces.names) == set(PROVINCES)
    assert d.regions_at(50.85, 4.35) == (None, None)  # Brussels
    assert not d.in_netherlands(50.85, 4.35)


def test_exact_school_by_brin_and_location_number(app):
    o = org(name="Aida", brin="32DD", location_number="00", postcode="2516 PV")
    assert services.locate_organisation(o)
    assert (o.geo_source, o.geo_precision, o.geo_status) == ("school", "address", "resolved")
    assert (o.municipality, o.province) == ("'s-Gravenhage", "Zuid-Holland")
    assert o.latitude == pytest.approx(52.06696, abs=1e-4)
    assert o.longitude == pytest.approx(4.33223, abs=1e-4)


def test_school_by_postcode_and_name_when_the_code_is_wrong(app):
    o = org(name="basisschool aida", brin="99ZZ", postcode="2516pv")
    assert services.locate_organisation(o)
    assert o.geo_source == "school"
    assert o.province == "Zuid-Holland"


def test_mbo_institution_by_brin(app):
    o = org(name="ROC Midden Nederland", brin="25LH", sector="mbo", postcode="3562 CS")
    assert services.locate_organisation(o)
    assert (o.geo_source, o.geo_precision) == ("mbo", "postcode")
    assert (o.municipality, o.province) == ("Utrecht", "Utrecht")


def test_only_a_postcode_gives_the_pc4_centroid_and_the_right_province(app):
    o = org(postcode="8911 AB")  # Leeuwarden
    assert services.locate_organisation(o)
    assert (o.geo_source, o.geo_precision) == ("postcode", "postcode")
    assert (o.municipality, o.province) == ("Leeuwarden", "Fryslân")


def test_unknown_postcode_is_flagged_not_raised(app):
    o = org(postcode="0000 AA")
    assert services.locate_organisation(o) is False
    assert o.geo_status == "failed"
    assert o.latitude is None
    assert o.province is None


def test_broken_data_never_raises(app, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("corrupt data")

    monkeypatch.setattr(services, "_offline", boom)
    o = org(postcode="8911 AB")
    assert services.locate_organisation(o) is False
    assert o.geo_status == "failed"


def test_a_manual_pin_is_kept_and_gets_its_regions(app):
    o = org(postcode="8911 AB", latitude=51.9225, longitude=4.47917, geo_source="manual")
    assert services.locate_organisation(o)
    assert (o.geo_source, o.geo_precision, o.province) == ("manual", "manual", "Zuid-Holland")
    with pytest.raises(ValueError, match="outside the Netherlands"):
        services.set_manual_location(o, 50.85, 4.35)


def test_school_search_by_name_code_and_postcode(app):
    d = directory()
    assert any(s.code == "32DD00" for s in d.search("aida den haag")) or \
        any(s.code == "32DD00" for s in d.search("aida"))
    assert d.search("32DD")[0].brin == "32DD"
    assert d.search("2516 PV")[0].postcode == "2516 PV"
    assert d.search("25LH")[0].sector == "mbo"
    assert d.search("a") == []
    assert len({s.code for s in d.schools}) == len(d.schools)  # deduplicated


def post_form(client, data):
    page = client.get("/aanmelden")
    data = dict(data, csrf_token=csrf_token_from(page.get_data(as_text=True)))
    return client.post("/aanmelden", data=data)


def test_submission_with_only_a_postcode_lands_on_the_map_in_the_right_province(
        csrf_client, db):
    """Done-when of issue 6: no network, a postcode only, the right province on the map."""
    response = post_form(csrf_client, form_post(
        school_name="Nieuwe leerwerkplaats", brin="99ZX", location_number="", street="",
        city="", postcode="8911AB"))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    initiative = db.session.scalars(select(Initiative)).one()
    org_ = initiative.organisation
    assert (org_.province, org_.geo_status, org_.geo_source) == ("Fryslân", "resolved",
                                                                  "postcode")
    initiative.state = InitiativeState.PUBLISHED
    db.session.commit()
    data = json.loads(csrf_client.get("/kaart/initiatieven.geojson?province=Fryslân").data)
    assert [f["id"] for f in data["features"]] == [initiative.id]
    assert data["features"][0]["properties"]["province"] == "Fryslân"


def test_submitter_can_place_a_pin(csrf_client, db):
    response = post_form(csrf_client, form_post(pin_latitude="51.92250",
                                                pin_longitude="4,47917"))
    assert response.status_code == 302
    o = db.session.scalars(select(Organisation)).one()
    assert (o.geo_source, o.province) == ("manual", "Zuid-Holland")
    assert o.latitude == pytest.approx(51.9225)


def test_a_pin_outside_the_netherlands_is_refused_with_a_message(csrf_client, db):
    response = post_form(csrf_client, form_post(pin_latitude="50.85", pin_longitude="4.35"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "De speld op de kaart ligt niet in Nederland" in html
    assert 'value="50.85"' in html  # kept, so the user can move it
    assert db.session.scalars(select(Organisation)).first() is None


def test_backlog_command_resolves_offline(app, db, runner):
    initiative = make_initiative(postcode="8911 AB")
    o = initiative.organisation
    o.geo_status, o.province, o.latitude, o.longitude = "todo", None, None, None
    db.session.commit()
    result = runner.invoke(args=["geocode", "--offline"])
    assert result.exit_code == 0, result.output
    assert "Resolved 1" in result.output
    db.session.refresh(o)
    assert (o.geo_status, o.province) == ("resolved", "Fryslân")


def test_refresh_schools_reads_a_newer_duo_file(app, runner, tmp_path):
    import shutil

    from registry.geo.build_data import DATA_DIR
    from registry.geo.directory import reset_directory

    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    source = tmp_path / "scholen.geo.json"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [5.12, 52.09]},
         "properties": {"naam": "De Nieuwe School", "type": "basisschool",
                        "straat": "Nieuwstraat", "huisnummer": 1, "postcode": "3511AA",
                        "plaats": "Utrecht", "brin_nummer": "00XX",
                        "vestigingscode": "00XX00", "internetadres": ""}},
    ]}), encoding="utf-8")
    app.config["GEO_DATA_DIR"] = str(data)
    reset_directory()
    try:
        result = runner.invoke(args=["refresh-schools", str(source)])
        assert result.exit_code == 0, result.output
        assert "1 locations" in result.output
        assert [s.name for s in directory().search("00XX")] == ["De Nieuwe School"]
        bad = tmp_path / "bad.json"
        bad.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
        assert runner.invoke(args=["refresh-schools", str(bad)]).exit_code != 0
    finally:
        app.config.pop("GEO_DATA_DIR", None)
        reset_directory()
