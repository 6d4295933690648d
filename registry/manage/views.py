"""The submitter's private pages: confirm, manage link, edit, withdraw, own data (AVG)."""
from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from registry.connect import services as connect
from registry.extensions import db, limiter
from registry.history.services import pending_revision
from registry.manage import services
from registry.manage.forms import (
    ActionForm,
    EraseForm,
    RequestLinkForm,
    ResendConfirmationForm,
    WithdrawForm,
)
from registry.submissions.forms import EditInitiativeForm, form_to_data
from registry.submissions.models import Initiative
from registry.submissions.views import build_form, handle_row_actions
from registry.taxonomy.constants import (
    OBSTACLE_STATUSES,
    PUBLIC,
    STATE_LABELS,
    VISIBILITIES,
    InitiativeState,
)

bp = Blueprint("manage", __name__)


def _request_limit() -> str:
    return current_app.config["MANAGE_REQUEST_LIMIT"]


@bp.after_request
def _private_headers(response: Response) -> Response:
    """Tokens are in these URLs: keep them out of Referer headers, caches and search engines."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _initiative_or_404(token: str) -> Initiative:
    initiative = services.initiative_for_manage_token(token)
    if initiative is None:
        abort(404)
    return initiative


def snapshot_to_formdata(content: dict) -> dict:
    """A history snapshot as data for EditInitiativeForm."""
    org, ini = content["organisation"], content["initiative"]
    return {
        "school_name": org["name"], "brin": org["brin"],
        "location_number": org.get("location_number") or "", "sector": org["sector"],
        "levels": org["levels"], "qualification_codes": org["qualification_codes"],
        "street": org["street"], "postcode": org["postcode"], "city": org["city"],
        "website": org["website"],
        **{name: ini[name] for name in ("title", "summary", "description", "start_year",
                                        "phase", "learners_count", "staff_count", "ict")},
        "dimensions": [
            {"code": code, "current_level": v[0], "ambition_level": v[1]}
            for code, v in content["dimensions"].items()
        ],
        "obstacles": [
            {"obstacle_id": o["id"] or "", **{k: o[k] for k in (
                "area", "title", "description", "rule", "severity", "status", "workaround",
                "policy_ask")}, "visibility": o.get("visibility") or PUBLIC}
            for o in content["obstacles"]
        ],
    }


# --------------------------------------------------------------------------- confirmation
@bp.route("/bevestigen/<token>", methods=["GET", "POST"])
def confirm(token: str):
    status, initiative = services.check_confirmation(token)
    if status != "ok" or initiative is None:  # "ok" always comes with the initiative
        form = ResendConfirmationForm(token=token) if status == "expired" else None
        return render_template("manage/link_problem.html", status=status, form=form,
                               request_form=RequestLinkForm(formdata=None)), (
            200 if status == "used" else 410 if status == "expired" else 400)
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        services.confirm_initiative(initiative)
        db.session.commit()
        return render_template("manage/confirmed.html", initiative=initiative)
    # A GET never confirms: mail scanners open links; a person presses the button.
    return render_template("manage/confirm.html", initiative=initiative, form=form)


@bp.route("/bevestigen/nieuwe-link", methods=["POST"])
@limiter.limit(_request_limit)
def resend_confirmation():
    """An expired (but genuine) link: send a new confirmation mail to the stored address."""
    form = ResendConfirmationForm()
    if not form.validate_on_submit():
        abort(400)
    status, initiative = services.check_confirmation(form.token.data or "")
    if status in ("ok", "expired") and initiative is not None:
        services.queue_manage_link_mail(initiative)
        db.session.commit()  # the mail goes out after the response (registry/mail/delivery.py)
    return render_template("manage/request_sent.html")


# --------------------------------------------------------------------------- new link
@bp.route("/beheren/nieuwe-link", methods=["GET", "POST"])
@limiter.limit(_request_limit, methods=["POST"])
def request_link():
    form = RequestLinkForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("manage/request_link.html", form=form), 422
        services.request_links(form.email.data or "")
        db.session.commit()
        # Always the same answer, whether the address is known or not - and just as fast:
        # the mail goes out after the response has been sent (registry/mail/delivery.py).
        return render_template("manage/request_sent.html")
    return render_template("manage/request_link.html", form=form)


# --------------------------------------------------------------------------- manage page
@bp.route("/beheren/<token>")
def overview(token: str):
    initiative = _initiative_or_404(token)
    db.session.commit()  # last_used_at
    message_token = None
    if initiative.contact is not None and initiative.contact.erased_at is None:
        salt = connect.OPT_OUT_SALT if initiative.contact.accepts_messages else connect.OPT_IN_SALT
        message_token = connect.opt_out_token(initiative.contact, salt)
    return render_template(
        "manage/overview.html", initiative=initiative, token=token, form=ActionForm(),
        message_token=message_token,
        pending=pending_revision(initiative), state_label=STATE_LABELS.get(initiative.state),
        content=services.current_content(initiative), states=InitiativeState,
        obstacle_statuses=OBSTACLE_STATUSES,
        live_visibility={o.id: o.visibility for o in initiative.obstacles},
    )


@bp.route("/beheren/<token>/bewerken", methods=["GET", "POST"])
def edit(token: str):
    initiative = _initiative_or_404(token)
    if not services.editable(initiative):
        flash(_("Een ingetrokken aanmelding kunt u niet meer wijzigen."), "info")
        return redirect(url_for("manage.overview", token=token))
    if request.method == "POST":
        form = build_form(EditInitiativeForm)
        focus = handle_row_actions(form)
        if focus is not None:
            return render_template("manage/edit.html", form=form, focus=focus,
                                   initiative=initiative, token=token)
        if form.validate():
            hidden_before = {o.id for o in initiative.obstacles if o.visibility != PUBLIC}
            outcome = services.submit_edit(
                initiative, form_to_data(form, language=initiative.language))
            hidden_now = {o.id for o in initiative.obstacles if o.visibility != PUBLIC}
            db.session.commit()
            if outcome == "pending" and hidden_now - hidden_before:
                flash(_("De knelpunten die u vertrouwelijk heeft gemaakt, zijn direct niet meer "
                        "openbaar."), "success")
            if outcome == "pending":
                flash(_("Dank u. Uw wijziging wacht op goedkeuring door een moderator; tot "
                        "dan blijft de gepubliceerde versie zichtbaar."), "success")
            else:
                flash(_("Uw wijzigingen zijn opgeslagen."), "success")
            return redirect(url_for("manage.overview", token=token))
        return render_template("manage/edit.html", form=form, initiative=initiative,
                               token=token), 422
    form = build_form(EditInitiativeForm,
                      data=snapshot_to_formdata(services.current_content(initiative)))
    return render_template("manage/edit.html", form=form, initiative=initiative, token=token)


@bp.route("/beheren/<token>/knelpunten/<int:obstacle_id>/opgelost", methods=["POST"])
def solve_obstacle(token: str, obstacle_id: int):
    initiative = _initiative_or_404(token)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not services.editable(initiative):
        abort(409)
    outcome = services.mark_obstacle_solved(initiative, obstacle_id)
    if outcome is None:
        abort(404)
    db.session.commit()
    if outcome == "pending":
        flash(_("Het knelpunt staat als opgelost in uw wijziging. Een moderator keurt de "
                "wijziging goed voordat die zichtbaar wordt."), "success")
    else:
        flash(_("Het knelpunt is als opgelost gemarkeerd."), "success")
    return redirect(url_for("manage.overview", token=token))


@bp.route("/beheren/<token>/knelpunten/<int:obstacle_id>/zichtbaarheid", methods=["POST"])
def obstacle_visibility(token: str, obstacle_id: int):
    """Make one obstacle confidential (at once) or public again (an edit, moderated when
    the entry is published)."""
    initiative = _initiative_or_404(token)
    if not ActionForm().validate_on_submit():
        abort(400)
    visibility = request.form.get("visibility", "")
    if visibility not in VISIBILITIES:
        abort(400)
    if not services.editable(initiative):
        abort(409)
    outcome = services.set_obstacle_visibility(initiative, obstacle_id, visibility)
    if outcome is None:
        abort(404)
    db.session.commit()
    if visibility != PUBLIC:
        flash(_("Het knelpunt is nu vertrouwelijk. Het staat niet meer op de openbare "
                "pagina's en telt alleen nog mee in de landelijke aantallen."), "success")
    elif outcome == "pending":
        flash(_("U heeft gevraagd het knelpunt weer openbaar te maken. Een moderator keurt dat "
                "eerst goed; tot dan blijft het knelpunt vertrouwelijk."), "success")
    else:
        flash(_("Het knelpunt is nu openbaar."), "success")
    return redirect(url_for("manage.overview", token=token))


@bp.route("/beheren/<token>/intrekken", methods=["GET", "POST"])
def withdraw(token: str):
    initiative = _initiative_or_404(token)
    if initiative.state == InitiativeState.WITHDRAWN:
        flash(_("Deze aanmelding is al ingetrokken."), "info")
        return redirect(url_for("manage.overview", token=token))
    form = WithdrawForm()
    if request.method == "POST":
        if form.validate_on_submit():
            services.withdraw_initiative(initiative, form.reason.data or "")
            db.session.commit()
            flash(_("Uw aanmelding is ingetrokken en is niet meer zichtbaar in het register."),
                  "success")
            return redirect(url_for("manage.overview", token=token))
        return render_template("manage/withdraw.html", form=form, initiative=initiative,
                               token=token), 422
    return render_template("manage/withdraw.html", form=form, initiative=initiative, token=token)


@bp.route("/beheren/<token>/mijn-gegevens.json")
def download(token: str):
    initiative = _initiative_or_404(token)
    data = services.personal_data_export(initiative)
    db.session.commit()
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    filename = f"mijn-gegevens-{initiative.reference or initiative.id}.json"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/beheren/<token>/gegevens-wissen", methods=["GET", "POST"])
def erase(token: str):
    initiative = _initiative_or_404(token)
    contact = initiative.contact
    if contact is not None and contact.erased_at is not None:
        flash(_("Uw contactgegevens zijn al gewist."), "info")
        return redirect(url_for("manage.overview", token=token))
    form = EraseForm()
    if request.method == "POST":
        if form.validate_on_submit():
            deleted = services.erase_contact(initiative)
            db.session.commit()
            if deleted:
                return redirect(url_for("manage.erased"))
            flash(_("Uw contactgegevens zijn gewist. Het geanonimiseerde initiatief blijft in "
                    "het register staan."), "success")
            return redirect(url_for("manage.overview", token=token))
        return render_template("manage/erase.html", form=form, initiative=initiative,
                               token=token), 422
    return render_template("manage/erase.html", form=form, initiative=initiative, token=token)


@bp.route("/beheren/gewist")
def erased():
    return render_template("manage/erased.html")
