"""Import every domain's models so that Alembic and create_all see the whole schema."""
from registry.audit.models import AuditEvent  # noqa: F401
from registry.auth.models import User  # noqa: F401
from registry.cache import (  # noqa: F401 - public data version stamp (issue 11)
    DataVersion,
    SharedResult,
)
from registry.connect.models import (  # noqa: F401
    ContactRequest,
    Subscription,
    SubscriptionNotice,
    SubscriptionTopic,
)
from registry.geo.models import GeocodeCache  # noqa: F401
from registry.history.models import Revision  # noqa: F401
from registry.imports.models import ImportJob, ImportRow, ImportSource  # noqa: F401
from registry.mail.models import OutboxMessage  # noqa: F401
from registry.manage.models import ManageToken  # noqa: F401
from registry.moderation.models import DuplicateFlag, MergeOperation, Theme, ThemeRule  # noqa: F401
from registry.published.models import (  # noqa: F401
    Snapshot,
    SnapshotDimension,
    SnapshotInitiative,
    SnapshotObstacle,
    SnapshotTheme,
    SnapshotThemeRule,
)
from registry.submissions import search  # noqa: F401 - keeps Initiative.search_text current
from registry.submissions.models import (  # noqa: F401
    Contact,
    Initiative,
    InitiativeDimension,
    Obstacle,
    Organisation,
)
from registry.taxonomy.models import Dimension, ObstacleArea, Phase, Sector  # noqa: F401
