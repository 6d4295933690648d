"""The submitter's private pages: confirm, manage link, edit, withdraw, own data (AVG)."""
from __future__ import annotations

import json
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from registry.connect import services as connect
from registry.extensions import db, limiter
from registry.history.services import pending_revision
from registry.manage import services, tokens
from registry.manage.forms import (
    ActionForm,
    EraseForm,
    OpenManageForm,
    RequestLinkForm,
    ResendConfirmationForm,
    WithdrawForm,
)
from registry.manage.models import ManageToken
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
    """Private pages (and confirmation tokens in URLs): keep them out of Referer headers,
    caches and search engines."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


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
                "policy_ask")}, "visibility": o.get("visibility") or PUBLIC,
             "pilot_interest": bool(o.get("pilot_interest"))}
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
# The mailed link is /beheren#<token>: the token never reaches the server in a request line
# (registry.manage.tokens). The page posts it to /beheren/openen, the session keeps the id of
# the token row, and every page below is token-less.

def _problem_page(status: str):
    """An expired or replaced manage link: say so and offer a new one (410)."""
    return render_template("manage/link_problem.html", status=f"manage_{status}",
                           months=current_app.config["MANAGE_LINK_IDLE_MONTHS"],
                           request_form=RequestLinkForm(formdata=None)), 410


def _open_page(notice: str | None = None, form: OpenManageForm | None = None, status=200):
    return render_template("manage/open.html", form=form or OpenManageForm(formdata=None),
                           notice=notice,
                           months=current_app.config["MANAGE_LINK_IDLE_MONTHS"]), status


def _notice(status: str) -> str | None:
    """Why a manage session (or link) stopped working, for the page it lands on."""
    if status == tokens.EXPIRED:
        return _("Uw beheerlink is verlopen, omdat hij %(months)d maanden niet is gebruikt. "
                 "Vraag een nieuwe link aan.",
                 months=current_app.config["MANAGE_LINK_IDLE_MONTHS"])
    if status == tokens.REVOKED:
        return _("Er is een nieuwere beheerlink naar u gestuurd; alleen de nieuwste link "
                 "werkt. Open uw aanmelding met de link uit de laatste e-mail.")
    return None


def _session_initiative() -> tuple[str, Initiative | None]:
    """(status, initiative) of this browser's manage session; forgets a session whose link
    no longer works."""
    if tokens.SESSION_KEY not in session:
        return tokens.INVALID, None
    status, initiative = tokens.session_initiative(session.get(tokens.SESSION_KEY))
    if initiative is None:
        session.pop(tokens.SESSION_KEY, None)
    return status, initiative


def manage_session(view):
    """Views of the manage session get its initiative as first argument; without a working
    session they send the visitor to /beheren (where the mailed link is opened)."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        status, initiative = _session_initiative()
        if initiative is None:
            flash(_notice(status)
                  or _("Open uw aanmelding met de persoonlijke link uit uw e-mail."), "info")
            return redirect(url_for("manage.overview"), code=303)
        return view(initiative, *args, **kwargs)
    return wrapper


def _start_session(row: ManageToken):
    session[tokens.SESSION_KEY] = row.id
    db.session.commit()  # last_used_at
    return redirect(url_for("manage.overview"), code=303)


@bp.route("/beheren/openen", methods=["GET", "POST"])
def open_link():
    """The code of a manage link, posted by the page's script (from the URL fragment) or
    pasted by the contact: start the manage session and go to the token-less page. A GET
    shows the form (to open another entry, also without JavaScript)."""
    form = OpenManageForm()
    if request.method == "GET":
        return _open_page()
    if not form.validate_on_submit():
        return _open_page(form=form, status=422)
    status, row = tokens.manage_token_status(form.code.data or "")
    if row is not None:
        return _start_session(row)
    if status in (tokens.EXPIRED, tokens.REVOKED):
        return _problem_page(status)
    form.code.errors = [_("Deze code werkt niet. Kopieer de volledige link of code uit de "
                          "e-mail, of vraag een nieuwe link aan.")]
    return _open_page(form=form, status=404)


@bp.route("/beheren/<token>")
def legacy_link(token: str):
    """Links mailed before the token moved into the fragment: open the session and
    redirect to the token-less page (the access log redacts this path: gunicorn.conf.py)."""
    status, row = tokens.manage_token_status(token)
    if row is not None:
        return _start_session(row)
    if status in (tokens.EXPIRED, tokens.REVOKED):
        return _problem_page(status)
    return render_template("manage/link_problem.html", status="invalid", form=None,
                           request_form=RequestLinkForm(formdata=None)), 404


@bp.route("/beheren")
def overview():
    status, initiative = _session_initiative()
    if initiative is None:  # the mailed link lands here; its script posts the fragment
        return _open_page(_notice(status))
    db.session.commit()  # last_used_at
    message_token = None
    if initiative.contact is not None and initiative.contact.erased_at is None:
        salt = connect.OPT_OUT_SALT if initiative.contact.accepts_messages else connect.OPT_IN_SALT
        message_token = connect.opt_out_token(initiative.contact, salt)
    return render_template(
        "manage/overview.html", initiative=initiative, form=ActionForm(),
        open_form=OpenManageForm(formdata=None), message_token=message_token,
        pending=pending_revision(initiative), state_label=STATE_LABELS.get(initiative.state),
        content=services.current_content(initiative), states=InitiativeState,
        obstacle_statuses=OBSTACLE_STATUSES,
        live_visibility={o.id: o.visibility for o in initiative.obstacles},
        kept=services.merged_into(initiative),
    )


@bp.route("/beheren/sluiten", methods=["POST"])
def close():
    """End the manage session in this browser (the link itself keeps working)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    session.pop(tokens.SESSION_KEY, None)
    flash(_("U bent afgemeld. Open uw aanmelding opnieuw met de link uit uw e-mail."), "info")
    return redirect(url_for("manage.overview"), code=303)


@bp.route("/beheren/bewerken", methods=["GET", "POST"])
@manage_session
def edit(initiative: Initiative):
    if not services.editable(initiative):
        flash(_("Deze aanmelding is samengevoegd met een andere aanmelding en kan niet meer "
                "worden gewijzigd.") if initiative.state == InitiativeState.MERGED else
              _("Een ingetrokken aanmelding kunt u niet meer wijzigen."), "info")
        return redirect(url_for("manage.overview"))
    if request.method == "POST":
        form = build_form(EditInitiativeForm)
        raw_version = request.form.get("version_id", "")
        version = int(raw_version) if raw_version.isdigit() else initiative.version_id
        focus = handle_row_actions(form)
        if focus is not None:
            return render_template("manage/edit.html", form=form, focus=focus,
                                   initiative=initiative, version_id=version)
        if version != initiative.version_id:
            # Opened before a moderator changed the entry (an edit, a merge that moved
            # obstacles here): saving would overwrite that, so nothing is saved.
            return render_template("manage/edit.html", form=form, initiative=initiative,
                                   version_id=version, stale=True), 409
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
            return redirect(url_for("manage.overview"))
        return render_template("manage/edit.html", form=form, initiative=initiative,
                               version_id=version), 422
    db.session.commit()  # last_used_at
    form = build_form(EditInitiativeForm,
                      data=snapshot_to_formdata(services.current_content(initiative)))
    return render_template("manage/edit.html", form=form, initiative=initiative,
                           version_id=initiative.version_id)


@bp.route("/beheren/knelpunten/<int:obstacle_id>/opgelost", methods=["POST"])
@manage_session
def solve_obstacle(initiative: Initiative, obstacle_id: int):
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
    return redirect(url_for("manage.overview"))


@bp.route("/beheren/knelpunten/<int:obstacle_id>/zichtbaarheid", methods=["POST"])
@manage_session
def obstacle_visibility(initiative: Initiative, obstacle_id: int):
    """Make one obstacle confidential (at once) or public again (an edit, moderated when
    the entry is published)."""
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
    return redirect(url_for("manage.overview"))


@bp.route("/beheren/ocw-toestemming", methods=["POST"])
@manage_session
def consent_name_to_ocw(initiative: Initiative):
    """The contact gives or withdraws consent to name the school to OCW in a pilot dossier
    (issue 18); takes effect at once, no moderation (it only decides who is named)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    value = request.form.get("value")
    if value not in ("yes", "no"):
        abort(400)
    if not services.set_consent_name_to_ocw(initiative, value == "yes"):
        abort(409)
    db.session.commit()
    flash(_("Uw school mag nu bij naam genoemd worden aan OCW in een pilotdossier.")
          if value == "yes" else
          _("Uw school wordt niet meer bij naam genoemd aan OCW; zij telt alleen mee."),
          "success")
    return redirect(url_for("manage.overview"))


@bp.route("/beheren/intrekken", methods=["GET", "POST"])
@manage_session
def withdraw(initiative: Initiative):
    if initiative.state == InitiativeState.WITHDRAWN:
        flash(_("Deze aanmelding is al ingetrokken."), "info")
        return redirect(url_for("manage.overview"))
    if initiative.state == InitiativeState.MERGED:
        flash(_("Deze aanmelding is samengevoegd met een andere aanmelding en staat niet meer "
                "apart in het register."), "info")
        return redirect(url_for("manage.overview"))
    form = WithdrawForm()
    if request.method == "POST":
        if form.validate_on_submit():
            services.withdraw_initiative(initiative, form.reason.data or "")
            db.session.commit()
            flash(_("Uw aanmelding is ingetrokken en is niet meer zichtbaar in het register."),
                  "success")
            return redirect(url_for("manage.overview"))
        return render_template("manage/withdraw.html", form=form, initiative=initiative), 422
    db.session.commit()  # last_used_at
    return render_template("manage/withdraw.html", form=form, initiative=initiative)


@bp.route("/beheren/mijn-gegevens.json")
@manage_session
def download(initiative: Initiative):
    data = services.personal_data_export(initiative)
    db.session.commit()
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    filename = f"mijn-gegevens-{initiative.reference or initiative.id}.json"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/beheren/gegevens-wissen", methods=["GET", "POST"])
@manage_session
def erase(initiative: Initiative):
    contact = initiative.contact
    if contact is not None and contact.erased_at is not None:
        flash(_("Uw contactgegevens zijn al gewist."), "info")
        return redirect(url_for("manage.overview"))
    form = EraseForm()
    if request.method == "POST":
        if form.validate_on_submit():
            deleted = services.erase_contact(initiative)
            db.session.commit()
            if deleted:
                session.pop(tokens.SESSION_KEY, None)  # the entry and its links are gone
                return redirect(url_for("manage.erased"))
            flash(_("Uw contactgegevens zijn gewist. Het geanonimiseerde initiatief blijft in "
                    "het register staan."), "success")
            return redirect(url_for("manage.overview"))
        return render_template("manage/erase.html", form=form, initiative=initiative), 422
    db.session.commit()  # last_used_at
    return render_template("manage/erase.html", form=form, initiative=initiative)


@bp.route("/beheren/gewist")
def erased():
    return render_template("manage/erased.html")
