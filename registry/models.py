"""Import every domain's models so that Alembic and create_all see the whole schema."""
from registry.audit.models import AuditEvent  # noqa: F401
from registry.auth.models import User  # noqa: F401
from registry.mail.models import OutboxMessage  # noqa: F401
from registry.moderation.models import Theme, ThemeRule  # noqa: F401
from registry.submissions.models import (  # noqa: F401
    Contact,
    Initiative,
    InitiativeDimension,
    Obstacle,
    Organisation,
)
from registry.taxonomy.models import Dimension, ObstacleArea  # noqa: F401
