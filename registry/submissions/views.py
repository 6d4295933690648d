"""Public submission form and thank-you page."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import get_locale

from registry.extensions import db
from registry.security.antispam import rate_limit
from registry.submissions.forms import InitiativeForm, SubmissionForm, form_to_data
from registry.submissions.services import form_choices, submit_initiative
from registry.taxonomy.constants import InitiativeState

bp = Blueprint("submissions", __name__)


def build_form(form_class: type[InitiativeForm] = SubmissionForm, **kwargs) -> InitiativeForm:
    """Instantiate an initiative form with the taxonomy choices from the database."""
    areas, dimensions = form_choices()
    return form_class(areas=areas, dimensions=dimensions, **kwargs)


def handle_row_actions(form: InitiativeForm) -> str | None:
    """The no-JavaScript buttons that add or remove an obstacle row.

    Returns the id of the element to focus after re-rendering, or None when the form was
    really submitted.
    """
    action = request.form.get("action", "submit")
    if action == "add_obstacle":
        if len(form.obstacles.entries) < 20:
            form.add_obstacle()
        return form.obstacles.entries[-1].id
    if action.startswith("remove_obstacle:"):
        form.remove_obstacle(action.split(":", 1)[1])
        return form.obstacles.entries[-1].id
    return None


def _render_rate_limited(message: str) -> str:
    """The form as typed, with the rate-limit message at the top (nothing is stored)."""
    form = build_form()
    form.form_errors.append(message)
    return render_template("submissions/form.html", form=form)


@bp.route("/aanmelden", methods=["GET", "POST"])
@rate_limit("SUBMISSION_RATE_LIMIT", render=_render_rate_limited,
            exempt_when=lambda: request.form.get("action", "submit") != "submit")
def submit():
    form = build_form()
    if request.method == "POST":
        focus = handle_row_actions(form)
        if focus is not None:
            return render_template("submissions/form.html", form=form, focus=focus)
        if form.validate():
            from registry.history.services import record_change
            from registry.mail.sender import claim_new, send_claimed
            from registry.manage.services import queue_confirmation_mail

            # Double opt-in: unconfirmed until the contact clicks the link in the mail,
            # which is queued in the same transaction (issue 4), already claimed by this
            # worker when it sends immediately (no extra claim query and commit).
            initiative = submit_initiative(form_to_data(form, language=str(get_locale())),
                                           state=InitiativeState.UNCONFIRMED)
            record_change(initiative, "submitter", "create", None)
            claimed = claim_new([queue_confirmation_mail(initiative)])
            reference = initiative.reference  # read before the commit expires it
            db.session.commit()
            send_claimed(claimed)  # never fails the submission; else send-mail retries
            session["submitted_reference"] = reference
            return redirect(url_for("submissions.thanks"))
        return render_template("submissions/form.html", form=form), 422
    return render_template("submissions/form.html", form=form)


@bp.route("/aanmelden/bedankt")
def thanks():
    reference = session.get("submitted_reference")
    if not reference:
        abort(404)
    return render_template("submissions/thanks.html", reference=reference)
