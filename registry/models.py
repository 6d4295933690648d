"""Import every domain's models so that Alembic and create_all see the whole schema."""
from registry.submissions.models import (  # noqa: F401
    Contact,
    Initiative,
    InitiativeDimension,
    Obstacle,
    Organisation,
)
from registry.taxonomy.models import Dimension, ObstacleArea  # noqa: F401
from registry.auth.models import User  # noqa: F401,E402
