from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative


def test_home_shows_counts_of_published_data_only(client, db):
    make_initiative(title="Gepubliceerd")
    make_initiative(state=InitiativeState.PENDING, title="Nog niet")
    html = client.get("/").get_data(as_text=True)
    assert 'data-count="initiatives">1<' in html
    assert 'data-count="obstacles">1<' in html
    assert 'href="/aanmelden"' in html


def test_list_shows_published_with_area_counts_and_paginates(client, db):
    from registry.submissions.services import ObstacleData

    make_initiative(title="Met twee examenknelpunten", obstacles=[
        ObstacleData(area="examineren", title="A", severity=2),
        ObstacleData(area="examineren", title="B", severity=2),
        ObstacleData(area="valideren", title="C", severity=1),
    ])
    make_initiative(state=InitiativeState.PENDING, title="Wacht nog")
    html = client.get("/initiatieven").get_data(as_text=True)
    assert "Met twee examenknelpunten" in html
    assert "Wacht nog" not in html
    assert "Examineren: 2" in html
    assert "Valideren: 1" in html

    for i in range(25):
        make_initiative(title=f"Extra {i}", commit=False)
    db.session.commit()
    page1 = client.get("/initiatieven").get_data(as_text=True)
    page2 = client.get("/initiatieven?page=2").get_data(as_text=True)
    assert page1.count('class="card"') == 20
    assert page2.count('class="card"') == 6
    assert "26 initiatieven gevonden" in page1


def test_detail_never_shows_contact_details(client, db):
    item = make_initiative()
    html = client.get(f"/initiatieven/{item.id}").get_data(as_text=True)
    assert item.title in html
    assert item.contact.email not in html
    assert item.contact.phone not in html
    assert item.contact.name not in html  # no consent to publish the name


def test_detail_shows_name_only_with_consent(client, db):
    item = make_initiative()
    item.contact.consent_publish_name = True
    db.session.commit()
    html = client.get(f"/initiatieven/{item.id}").get_data(as_text=True)
    assert item.contact.name in html
    assert item.contact.email not in html


def test_unpublished_entries_are_404(client, db):
    for state in (InitiativeState.PENDING, InitiativeState.REJECTED, InitiativeState.WITHDRAWN,
                  InitiativeState.UNCONFIRMED):
        item = make_initiative(state=state)
        assert client.get(f"/initiatieven/{item.id}").status_code == 404
    assert client.get("/initiatieven/99999").status_code == 404


def test_language_switch_to_english_and_back(client):
    assert "Initiatief aanmelden" in client.get("/aanmelden").get_data(as_text=True)
    response = client.get("/taal/en?next=/aanmelden")
    assert response.status_code == 302
    assert response.headers["Location"] == "/aanmelden"
    html = client.get("/aanmelden").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Submit an initiative" in html
    assert "Name of the school" in html
    client.get("/taal/nl?next=/")
    assert '<html lang="nl">' in client.get("/").get_data(as_text=True)


def test_language_switch_does_not_redirect_elsewhere(client):
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.get("/taal/en", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_absurd_page_numbers_give_an_empty_page_not_an_error(client, db):
    make_initiative()
    for page in ("99999999999999999999", "-5", "abc", "0"):
        response = client.get(f"/initiatieven?page={page}")
        assert response.status_code == 200
