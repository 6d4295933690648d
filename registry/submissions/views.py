"""Public submission form and thank-you page."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale

from registry.extensions import db
from registry.security.antispam import rate_limit
from registry.submissions import services
from registry.submissions.forms import InitiativeForm, SubmissionForm, form_to_data
from registry.taxonomy.services import current as current_taxonomy

bp = Blueprint("submissions", __name__)

# The buttons that add or remove an obstacle row without JavaScript. Any other ``action``
# (including none) is a submission.
ADD_ROW = "add_obstacle"
REMOVE_ROW = "remove_obstacle:"


def build_form(form_class: type[InitiativeForm] = SubmissionForm, **kwargs) -> InitiativeForm:
    """Instantiate an initiative form with the taxonomy choices from the database."""
    return form_class(taxonomy=current_taxonomy(), **kwargs)


def is_row_action() -> bool:
    """Whether this POST only adds or removes an obstacle row (nothing is stored)."""
    action = request.form.get("action", "")
    return action == ADD_ROW or action.startswith(REMOVE_ROW)


def handle_row_actions(form: InitiativeForm) -> str | None:
    """The no-JavaScript buttons that add or remove an obstacle row.

    Returns the id of the element to focus after re-rendering, or None when the form was
    really submitted.
    """
    action = request.form.get("action", "")
    if action == ADD_ROW:
        if len(form.obstacles.entries) < current_app.config["MAX_OBSTACLES"]:
            form.add_obstacle()
        return form.obstacles.entries[-1].id
    if action.startswith(REMOVE_ROW):
        form.remove_obstacle(action.removeprefix(REMOVE_ROW))
        return form.obstacles.entries[-1].id
    return None


def _render_rate_limited(message: str) -> str:
    """The form as typed, with the rate-limit message at the top (nothing is stored)."""
    form = build_form()
    form.form_errors.append(message)
    return render_template("submissions/form.html", form=form)


@bp.route("/aanmelden", methods=["GET", "POST"])
@rate_limit("SUBMISSION_RATE_LIMIT", render=_render_rate_limited, exempt_when=is_row_action)
def submit():
    form = build_form()
    if request.method == "GET":
        return render_template("submissions/form.html", form=form)
    focus = handle_row_actions(form)
    if focus is not None:
        return render_template("submissions/form.html", form=form, focus=focus)
    if not form.validate():
        return render_template("submissions/form.html", form=form), 422
    initiative = services.submit(form_to_data(form, language=str(get_locale())))
    reference = initiative.reference  # read before the commit expires it
    db.session.commit()
    session["submitted_reference"] = reference
    return redirect(url_for("submissions.thanks"))


@bp.route("/aanmelden/bedankt")
def thanks():
    reference = session.get("submitted_reference")
    if not reference:
        abort(404)
    return render_template("submissions/thanks.html", reference=reference)
