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
from registry.submissions.forms import (
    InitiativeForm,
    SubmissionForm,
    answer_text,
    carried_values,
    form_to_data,
)
from registry.taxonomy.services import current as current_taxonomy

bp = Blueprint("submissions", __name__)

# The buttons that add or remove an obstacle row without JavaScript. Any other ``action``
# (including none) is a submission.
ADD_ROW = "add_obstacle"
REMOVE_ROW = "remove_obstacle:"
# The public form's own steps: "check" validates and shows everything entered
# (check-your-answers page), "edit" takes the checked data back into the form ("Wijzig").
# Neither stores anything; "Versturen" on the check page posts ``action=submit``.
CHECK = "check"
EDIT = "edit"


def build_form(form_class: type[InitiativeForm] = SubmissionForm, **kwargs) -> InitiativeForm:
    """Instantiate an initiative form with the taxonomy choices from the database."""
    return form_class(taxonomy=current_taxonomy(), **kwargs)


def is_row_action() -> bool:
    """Whether this POST only adds or removes an obstacle row (nothing is stored)."""
    action = request.form.get("action", "")
    return action == ADD_ROW or action.startswith(REMOVE_ROW)


def stores_nothing() -> bool:
    """Whether this POST to the public form cannot store anything (free of the rate limit):
    a row action, checking the answers or going back to change them."""
    return is_row_action() or request.form.get("action", "") in (CHECK, EDIT)


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


def _render_form(form: InitiativeForm, **context) -> str:
    return render_template("submissions/form.html", form=form, form_action=_form_action(),
                           **context)


def _form_action() -> str:
    """Where the form posts: this page, keeping a ``?lang=`` choice of the language."""
    lang = request.args.get("lang")
    return url_for("submissions.submit",
                   lang=lang if lang in current_app.config["LANGUAGES"] else None)


def _render_rate_limited(message: str) -> str:
    """The form as typed, with the rate-limit message at the top (nothing is stored)."""
    form = build_form()
    form.form_errors.append(message)
    return _render_form(form)


@bp.route("/aanmelden", methods=["GET", "POST"])
@rate_limit("SUBMISSION_RATE_LIMIT", render=_render_rate_limited, exempt_when=stores_nothing)
def submit():
    form = SubmissionForm(taxonomy=current_taxonomy())
    if request.method == "GET":
        return _render_form(form)
    focus = handle_row_actions(form)
    if focus is not None:
        return _render_form(form, focus=focus)
    action = request.form.get("action", "")
    if action == EDIT:
        # Back from the check page ("Wijzig"): the form as checked, without messages; the
        # button's URL fragment (#stap-2, #knelpunt-1) brings the user to the right part.
        return _render_form(form)
    if action == CHECK:
        form.checking = True
        if not form.validate():
            return _render_form(form), 422
        return render_template("submissions/check.html", form=form,
                               form_action=_form_action(), carried=carried_values(form),
                               answer=answer_text)
    if not form.validate():
        return _render_form(form), 422
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
