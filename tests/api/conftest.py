"""Published data for the API tests: initiatives in several sectors, themes, a draft."""
from __future__ import annotations

import pytest

from registry.extensions import db
from registry.moderation.models import Theme, ThemeRule
from registry.submissions.services import ObstacleData
from registry.taxonomy.constants import InitiativeState
from tests.factories import make_initiative


@pytest.fixture
def api_data(app):
    """Three published initiatives (one with a theme), one pending; returns them by name."""
    theme = Theme(area_code="examineren", title="Vaste examenmomenten",
                  description="Examens alleen op vaste data.")
    theme.rules.append(ThemeRule(title="Eindexamenbesluit VO", level="amvb",
                                 source_url="https://wetten.overheid.nl/BWBR0004593"))
    db.session.add(theme)
    db.session.flush()
    a = make_initiative(sector="mbo", school_name="Het Baken", city="Utrecht", obstacles=[
        ObstacleData(area="examineren", title="Examens in juni", severity=3,
                     description="Alleen in juni.", rule="Examenbesluit"),
        ObstacleData(area="diplomeren", title="Geen deeldiploma", severity=4, status="omzeild",
                     workaround="Certificaten", rule="WEB 7.4.6"),
    ])
    a.obstacles[0].theme_id = theme.id
    b = make_initiative(sector="vo", school_name="Lyceum Noord", city="Groningen",
                        phase="lopend", obstacles=[
        ObstacleData(area="overig", title="Urennorm", severity=2, rule="WVO onderwijstijd"),
    ])
    c = make_initiative(sector="po", school_name="De Linde", brin="12CD", obstacles=[
        ObstacleData(area="examineren", title="Eindtoets", severity=1, status="opgelost"),
    ])
    draft = make_initiative(state=InitiativeState.PENDING, title="Nog niet gepubliceerd")
    db.session.commit()
    return {"a": a, "b": b, "c": c, "draft": draft, "theme": theme}
