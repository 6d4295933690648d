"""Public theme pages (issue 18): per curated theme, the problem, its rules and where they come
from, the room that exists, the ask to OCW, figures, and how other schools cope."""
