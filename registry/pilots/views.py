"""Pilot dossiers for advisors: ``/knelpunten/thema/<id>/pilotdossier.docx``.

Staff only (advisor and up): the dossier may name schools (with their consent) and counts
confidential reports. Every download is written to the audit log and committed (an access
record, allowed on a GET: tests/test_get_is_safe.py). The document is made per request and
never cached (``Cache-Control: no-store``).
"""
from __future__ import annotations

from flask import Blueprint, Response, abort

from registry.audit.services import record
from registry.auth.decorators import role_required
from registry.extensions import db
from registry.moderation.models import Theme
from registry.pilots import services

bp = Blueprint("pilots", __name__, url_prefix="/knelpunten/thema")

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@bp.route("/<int:theme_id>/pilotdossier.docx")
@role_required("advisor")
def dossier(theme_id: int):
    theme = db.session.get(Theme, theme_id) or abort(404)
    content = services.dossier(theme)
    body = services.to_docx(content)
    record("pilot.dossier", target_type="theme", target_id=theme.id,
           after={"schools": content.schools, "named": len(content.named),
                  "counted": content.unnamed, "reports": content.reports})
    db.session.commit()
    return Response(body, mimetype=DOCX, headers={
        "Content-Disposition": f'attachment; filename="{services.filename(content)}"',
        "Cache-Control": "no-store, private",
        "X-Robots-Tag": "noindex, nofollow",
    })
