"""The moderation queue, entry pages, duplicates and themes (moderators and admins only)."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3

from registry.audit.models import AuditEvent
from registry.auth.decorators import protect_blueprint
from registry.auth.models import User
from registry.extensions import db
from registry.history import labels
from registry.history.models import Revision
from registry.history.services import pending_revision
from registry.moderation import duplicates, services
from registry.moderation.forms import ThemeForm
from registry.moderation.models import RULE_LEVEL_LABELS, MergeOperation, Theme
from registry.published.web import current_filter
from registry.submissions.forms import EditInitiativeForm, form_to_data, initiative_to_formdata
from registry.submissions.models import Initiative, Obstacle
from registry.submissions.views import build_form, handle_row_actions
from registry.taxonomy.constants import InitiativeState
from registry.taxonomy.services import current as current_taxonomy

bp = Blueprint("moderation", __name__, url_prefix="/moderatie")
protect_blueprint(bp, "moderator")

PAGE_SIZE = 50


def _actor():
    return current_user._get_current_object()


def _initiative_or_404(initiative_id: int) -> Initiative:
    initiative = db.session.get(Initiative, initiative_id)
    if initiative is None:
        abort(404)
    return initiative


def _version_from_form() -> int | None:
    raw = request.form.get("version_id", "")
    return int(raw) if raw.isdigit() else None


# --- queue -----------------------------------------------------------------------------------

@bp.route("/")
def queue():
    filters = current_filter()
    state = request.args.get("state", "pending")
    if state not in services.QUEUE_STATES:
        state = "pending"
    stmt = services.queue_select(filters, state)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), 100_000)
    items = db.session.scalars(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    flagged = duplicates.initiatives_with_open_flags([i.id for i in items])
    revisions = {i.id: pending_revision(i) for i in items}
    return render_template(
        "moderation/queue.html", items=items, total=total, page=page, page_size=PAGE_SIZE,
        filters=filters, state=state, areas=current_taxonomy().choices("areas"),
        flagged=flagged, revisions=revisions,
        # "select all on this page" without JavaScript: a link that checks every box
        select_all=request.args.get("select") == "all",
    )


@bp.route("/bulk", methods=["POST"])
def bulk():
    action = request.form.get("bulk_action")
    ids = [int(v) for v in request.form.getlist("ids") if v.isdigit()]
    reason = request.form.get("reason", "").strip()
    if not ids:
        flash(_("Kies eerst een of meer aanmeldingen."), "error")
        return redirect(url_for("moderation.queue"))
    if action not in ("publish", "reject"):
        abort(400)
    if action == "reject" and not reason:
        flash(_("Geef een reden voor de afwijzing; die wordt naar de contactpersonen gemaild."),
              "error")
        return redirect(url_for("moderation.queue"))
    if action == "publish" and request.form.get("confirm_duplicates") != "1":
        flagged = _likely_duplicates(ids)
        if flagged:  # ask first: publishing a likely duplicate is hard to take back
            return render_template(
                "moderation/bulk_confirm.html", flagged=flagged, ids=sorted(ids),
                others=sorted(set(ids) - {i.id for i, _pairs in flagged}))
    done, skipped = services.bulk_decide(ids, action, reason, actor=_actor())
    db.session.commit()
    if action == "publish":
        flash(_("%(n)d aanmelding(en) gepubliceerd.", n=done), "success")
    else:
        flash(_("%(n)d aanmelding(en) afgewezen.", n=done), "success")
    if skipped:
        flash(_("Overgeslagen (niet in de juiste status): %(refs)s", refs=", ".join(skipped)),
              "error")
    return redirect(url_for("moderation.queue"))


def _likely_duplicates(ids: list[int]) -> list[tuple[Initiative, list]]:
    """The chosen entries that would be published and have a likely duplicate to decide on,
    each with its (flag, other entry) pairs."""
    flagged = duplicates.initiatives_with_open_flags(ids)
    out = []
    for initiative in db.session.scalars(select(Initiative).where(Initiative.id.in_(flagged))
                                         .order_by(Initiative.id)):
        if initiative.state in (InitiativeState.PENDING, InitiativeState.REJECTED):
            out.append((initiative, [(flag, flag.other(initiative.id))
                                     for flag in duplicates.open_flags(initiative)]))
    return out


# --- entry page ------------------------------------------------------------------------------

def _history_events(ids: list[int]) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.target_type == "initiative",
                                 AuditEvent.target_id.in_(ids))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(200)))


def _revisions(ids: list[int]) -> list[Revision]:
    return list(db.session.scalars(
        select(Revision).where(Revision.initiative_id.in_(ids))
        .order_by(Revision.created_at.desc(), Revision.id.desc())))


def _log_confidential_view(initiative: Initiative, revision: Revision | None = None) -> None:
    """A staff screen showed this entry's confidential obstacles (issue 16): one audit event,
    committed at once (an access record, like ``contact.view``; allowed on a GET).

    Callers have nothing else pending in the session: a GET, or a POST that failed before
    changing anything or was rolled back."""
    ids, new = services.confidential_obstacle_ids(initiative, revision)
    if services.record_confidential_view(initiative.id, ids, new=new, actor=_actor(),
                                         page=request.path):
        db.session.commit()


def render_entry(initiative: Initiative, *, errors: dict | None = None,
                 values: dict | None = None, status: int = 200, show_contact: bool = False):
    """The entry page (contact data only when asked for, see reveal_contact). Confidential
    obstacles are shown, marked, and each view of them is audit-logged."""
    merged = duplicates.merged_into(initiative)
    ids = [initiative.id] + [m.id for m in merged]
    pairs = [(flag, flag.other(initiative.id)) for flag in duplicates.open_flags(initiative)]
    revision = pending_revision(initiative)
    operations = services.merge_operations(initiative)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(
        {op.created_by_id for op in operations} | {op.undone_by_id for op in operations})))}
    html = render_template(
        "moderation/entry.html", initiative=initiative, errors=errors or {}, values=values or {},
        revision=revision, duplicates=pairs,
        merged=merged, kept=duplicates.kept_instead(initiative),
        merge_operations=[(op, services.undo_blockers(op)) for op in operations], users=users,
        not_duplicates=[(flag, flag.other(initiative.id))
                        for flag in duplicates.not_duplicate_flags(initiative)],
        events=_history_events(ids), revisions=_revisions(ids),
        areas=current_taxonomy().choices("areas"), themes=services.all_themes(),
        show_contact=show_contact,
    )
    _log_confidential_view(initiative, revision)
    return html, status


@bp.route("/<int:initiative_id>")
def entry(initiative_id: int):
    return render_entry(_initiative_or_404(initiative_id))


@bp.route("/<int:initiative_id>/contact", methods=["POST"])
def reveal_contact(initiative_id: int):
    """Show the contact's personal data; each time is written to the audit log."""
    initiative = _initiative_or_404(initiative_id)
    services.reveal_contact(initiative, actor=_actor())
    db.session.commit()
    return render_entry(initiative, show_contact=True)


def _stale(initiative: Initiative, message: str | None = None):
    db.session.rollback()
    initiative = _initiative_or_404(initiative.id)
    return render_entry(initiative, errors={"version": message or _(
        "Iemand anders heeft deze aanmelding intussen gewijzigd. Uw wijzigingen zijn niet "
        "opgeslagen. Bekijk de nieuwe versie en voer uw wijzigingen opnieuw in.")}, status=409)


@bp.route("/<int:initiative_id>/publiceren", methods=["POST"])
def publish(initiative_id: int):
    initiative = _initiative_or_404(initiative_id)
    try:
        services.check_version(initiative, _version_from_form())
        services.publish(initiative, actor=_actor())
        db.session.commit()
    except services.StaleEntryError as exc:
        return _stale(initiative, str(exc))
    except services.ModerationError as exc:
        return render_entry(initiative, errors={"publish": str(exc)}, status=422)
    except StaleDataError:
        return _stale(initiative)
    flash(_("Gepubliceerd: %(title)s", title=initiative.title), "success")
    return redirect(url_for("moderation.queue"))


@bp.route("/<int:initiative_id>/afwijzen", methods=["POST"])
def reject(initiative_id: int):
    initiative = _initiative_or_404(initiative_id)
    reason = request.form.get("reason", "").strip()[:5000]
    try:
        services.check_version(initiative, _version_from_form())
        services.reject(initiative, reason, actor=_actor())
        db.session.commit()
    except services.StaleEntryError as exc:
        return _stale(initiative, str(exc))
    except services.ModerationError as exc:
        return render_entry(initiative, errors={"reason": str(exc)}, values={"reason": reason},
                            status=422)
    except StaleDataError:
        return _stale(initiative)
    flash(_("Afgewezen; de contactpersoon krijgt een e-mail met de reden."), "success")
    return redirect(url_for("moderation.queue"))


@bp.route("/<int:initiative_id>/wijzigingen-vragen", methods=["POST"])
def request_changes(initiative_id: int):
    initiative = _initiative_or_404(initiative_id)
    message = request.form.get("message", "").strip()[:5000]
    try:
        services.request_changes(initiative, message, actor=_actor())
    except services.ModerationError as exc:
        return render_entry(initiative, errors={"message": str(exc)},
                            values={"message": message}, status=422)
    db.session.commit()
    flash(_("De contactpersoon krijgt een e-mail met uw vraag en de link om de aanmelding aan "
            "te passen."), "success")
    return redirect(url_for("moderation.entry", initiative_id=initiative.id))


def _render_edit(form, initiative: Initiative, version_id, status: int = 200, **context):
    """The edit form; it holds the texts of confidential obstacles, so each showing is
    audit-logged (``_log_confidential_view``)."""
    html = render_template("moderation/edit.html", form=form, initiative=initiative,
                           version_id=version_id, **context)
    _log_confidential_view(initiative)
    return html, status


@bp.route("/<int:initiative_id>/bewerken", methods=["GET", "POST"])
def edit(initiative_id: int):
    initiative = _initiative_or_404(initiative_id)
    if request.method == "GET":
        form = build_form(EditInitiativeForm, data=initiative_to_formdata(initiative))
        return _render_edit(form, initiative, initiative.version_id)
    form = build_form(EditInitiativeForm)
    version = _version_from_form()
    focus = handle_row_actions(form)
    if focus is not None:
        return _render_edit(form, initiative, version, focus=focus)
    if not form.validate():
        return _render_edit(form, initiative, version, 422)
    stale = None
    unlinked = []
    try:
        unlinked = services.edit(initiative, form_to_data(form, language=initiative.language),
                                 expected_version=version, actor=_actor())
        db.session.commit()
    except services.StaleEntryError as exc:
        stale = str(exc)
    except StaleDataError:
        stale = _("Iemand anders heeft deze aanmelding intussen gewijzigd. Uw wijzigingen zijn "
                  "niet opgeslagen. Bekijk de nieuwe versie en voer uw wijzigingen opnieuw in.")
    if stale:
        db.session.rollback()
        initiative = _initiative_or_404(initiative_id)
        # Keep what the moderator typed, so that nothing is lost; the version stays the old one.
        return _render_edit(form, initiative, version, 409, stale=stale)
    flash(_("De wijzigingen zijn opgeslagen."), "success")
    _flash_unlinked(unlinked)
    return redirect(url_for("moderation.entry", initiative_id=initiative.id))


@bp.route("/knelpunt/<int:obstacle_id>/gebied", methods=["POST"])
def reclassify(obstacle_id: int):
    obstacle = db.session.get(Obstacle, obstacle_id) or abort(404)
    try:
        unlinked = services.reclassify_obstacle(obstacle, request.form.get("area", ""),
                                                actor=_actor())
        db.session.commit()
    except services.ModerationError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Het gebied van het knelpunt is aangepast."), "success")
        if unlinked is not None:
            _flash_unlinked([(obstacle, unlinked)])
    # The entry page offers the themes of the obstacle's (new) area.
    return redirect(url_for("moderation.entry", initiative_id=obstacle.initiative_id)
                    + f"#theme-{obstacle.id}")


def _flash_moved(count: int, theme: Theme) -> None:
    """Tell the moderator that linking moved reports to the theme's area (issue 18)."""
    flash(_("%(n)d knelpunt(en) stonden in een ander gebied en zijn verplaatst naar "
            "%(area)s, het gebied van het thema.", n=count,
            area=current_taxonomy().label("areas", theme.area_code)), "success")


def _flash_unlinked(pairs) -> None:
    """Tell the moderator which obstacles left a theme of their old area (issue 18)."""
    for obstacle, theme in pairs:
        flash(_("Het knelpunt “%(obstacle)s” is losgekoppeld van het thema “%(theme)s”: dat "
                "thema hoort bij een ander gebied. Kies bij het knelpunt een thema van het "
                "gebied %(area)s.", obstacle=obstacle.title, theme=theme.title,
                area=current_taxonomy().label("areas", obstacle.area_code)), "error")


@bp.route("/knelpunt/<int:obstacle_id>/thema", methods=["POST"])
def link_theme(obstacle_id: int):
    obstacle = db.session.get(Obstacle, obstacle_id) or abort(404)
    raw = request.form.get("theme_id", "")
    theme = db.session.get(Theme, int(raw)) if raw.isdigit() else None
    if raw and theme is None:
        abort(400)
    moved = services.link_obstacle(obstacle, theme, actor=_actor())
    db.session.commit()
    flash(_("Het knelpunt is aan het thema gekoppeld.") if theme else
          _("Het knelpunt is losgekoppeld van het thema."), "success")
    if moved is not None and theme is not None:
        _flash_moved(1, theme)
    back = request.form.get("back")
    if back == "theme" and theme is not None:
        return redirect(url_for("moderation.theme", theme_id=theme.id))
    return redirect(url_for("moderation.entry", initiative_id=obstacle.initiative_id)
                    + f"#knelpunt-{obstacle.id}")


# --- revisions -------------------------------------------------------------------------------

def _revision_or_404(initiative: Initiative, revision_id: int) -> Revision:
    revision = db.session.get(Revision, revision_id)
    if revision is None or revision.initiative_id != initiative.id:
        abort(404)
    return revision


@bp.route("/<int:initiative_id>/revisie/<int:revision_id>/goedkeuren", methods=["POST"])
def approve_revision(initiative_id: int, revision_id: int):
    initiative = _initiative_or_404(initiative_id)
    revision = _revision_or_404(initiative, revision_id)
    try:
        services.check_version(initiative, _version_from_form())
        unlinked = services.approve_revision(revision, actor=_actor())
        db.session.commit()
    except services.StaleEntryError as exc:
        return _stale(initiative, str(exc))
    except (services.ModerationError, ValueError) as exc:
        db.session.rollback()
        return render_entry(_initiative_or_404(initiative_id),
                            errors={"revision": str(exc)}, status=422)
    except StaleDataError:
        return _stale(initiative)
    flash(_("De wijziging is goedgekeurd en doorgevoerd."), "success")
    _flash_unlinked(unlinked)
    return redirect(url_for("moderation.entry", initiative_id=initiative.id))


@bp.route("/<int:initiative_id>/revisie/<int:revision_id>/verwerpen", methods=["POST"])
def discard_revision(initiative_id: int, revision_id: int):
    initiative = _initiative_or_404(initiative_id)
    revision = _revision_or_404(initiative, revision_id)
    reason = request.form.get("reason", "").strip()[:5000]
    try:
        services.discard_revision(revision, reason, actor=_actor())
        db.session.commit()
    except (services.ModerationError, ValueError) as exc:
        db.session.rollback()
        return render_entry(_initiative_or_404(initiative_id),
                            errors={"revision": str(exc)}, status=422)
    flash(_("De wijziging is verworpen."), "success")
    return redirect(url_for("moderation.entry", initiative_id=initiative.id))


# --- duplicates ------------------------------------------------------------------------------

@bp.route("/<int:initiative_id>/samenvoegen/<int:other_id>", methods=["GET", "POST"])
def merge(initiative_id: int, other_id: int):
    keep = _initiative_or_404(initiative_id)
    other = _initiative_or_404(other_id)
    if keep.id == other.id:
        abort(404)
    fields = services.differing_fields(keep, other)
    error = None
    if request.method == "POST":
        take = {name for name in fields if request.form.get(f"field-{name}") == "other"}
        raw_other = request.form.get("other_version_id", "")
        try:
            services.check_version(keep, _version_from_form())
            services.merge(keep, other, take, actor=_actor(),
                           expected_other_version=int(raw_other) if raw_other.isdigit()
                           else None)
            db.session.commit()
        except services.ModerationError as exc:
            db.session.rollback()
            error = str(exc)
        except StaleDataError:
            db.session.rollback()
            error = _("Iemand anders heeft een van beide aanmeldingen intussen gewijzigd. Er is "
                      "niets samengevoegd. Bekijk de nieuwe versie en probeer het opnieuw.")
        else:
            flash(_("%(other)s is samengevoegd met %(keep)s.", other=other.reference,
                    keep=keep.reference), "success")
            return redirect(url_for("moderation.entry", initiative_id=keep.id))
        keep, other = _initiative_or_404(initiative_id), _initiative_or_404(other_id)
    html = render_template(
        "moderation/merge.html", keep=keep, other=other, fields=fields,
        value=_merge_display_value, labels=_merge_labels(), error=error,
        mails_contact=services.has_contact_address(other),
        raised=services.raised_dimensions(keep, other),
    )
    _log_confidential_view(keep)  # the page lists the obstacle titles of both
    _log_confidential_view(other)
    return html, (422 if error else 200)


def _merge_display_value(initiative, name: str):
    """A merge field's value as staff read it (the phase and sector as their labels)."""
    owner, attr = services.MERGE_FIELDS[name]
    value = services.merge_value(initiative, name)
    return None if value is None else labels.change_value(f"{owner}.{attr}", value)


def _merge_labels() -> dict[str, str]:
    form = build_form(EditInitiativeForm)
    return {"school_name": form.school_name.label.text, **{
        name: form[name].label.text for name in services.MERGE_FIELDS if name != "school_name"}}


@bp.route("/<int:initiative_id>/geen-dubbele/<int:other_id>", methods=["POST"])
def not_duplicate(initiative_id: int, other_id: int):
    initiative = _initiative_or_404(initiative_id)
    other = _initiative_or_404(other_id)
    if initiative.id == other.id:
        abort(404)
    try:
        duplicates.mark_not_duplicate(initiative, other, actor=_actor())
    except ValueError:
        db.session.rollback()
        flash(_("Deze aanmeldingen zijn samengevoegd. Maak dat ongedaan vanuit de "
                "geschiedenis."), "error")
    else:
        db.session.commit()
        flash(_("Gemarkeerd als geen dubbele aanmelding. U kunt dit terugdraaien bij "
                "‘Mogelijke dubbele aanmeldingen’."), "success")
    return redirect(url_for("moderation.entry", initiative_id=initiative.id))


@bp.route("/<int:initiative_id>/geen-dubbele/<int:other_id>/terugdraaien", methods=["POST"])
def revert_not_duplicate(initiative_id: int, other_id: int):
    """The pair is a likely duplicate again (open), with its tag in the queue."""
    initiative = _initiative_or_404(initiative_id)
    other = _initiative_or_404(other_id)
    if duplicates.reopen_flag(initiative, other, actor=_actor()) is None:
        flash(_("Er is geen besluit ‘geen dubbele’ om terug te draaien."), "error")
    else:
        db.session.commit()
        flash(_("Het besluit is teruggedraaid: %(other)s staat weer als mogelijk dubbele "
                "aanmelding.", other=other.reference), "success")
    return redirect(url_for("moderation.entry", initiative_id=initiative.id)
                    + "#duplicates-title")


@bp.route("/samenvoeging/<int:operation_id>/ongedaan-maken", methods=["POST"])
def undo_merge(operation_id: int):
    """Undo a merge (from the history of either entry); refused, with the reasons, when
    something the merge changed has changed since."""
    operation = db.session.get(MergeOperation, operation_id) or abort(404)
    back = operation.merged_id if request.form.get("back") == "merged" else operation.kept_id
    try:
        services.undo_merge(operation, actor=_actor())
        db.session.commit()
    except services.UndoBlockedError as exc:
        db.session.rollback()
        for reason in exc.reasons:
            flash(_("Ongedaan maken kan niet: %(reason)s", reason=reason), "error")
    except StaleDataError:
        db.session.rollback()
        flash(_("Iemand anders heeft een van beide aanmeldingen intussen gewijzigd. Er is "
                "niets ongedaan gemaakt. Probeer het opnieuw."), "error")
    else:
        flash(_("Het samenvoegen van %(other)s met %(keep)s is ongedaan gemaakt.",
                other=operation.merged.reference, keep=operation.kept.reference), "success")
    return redirect(url_for("moderation.entry", initiative_id=back) + "#history-title")


# --- themes ----------------------------------------------------------------------------------

def _theme_form(**kwargs) -> ThemeForm:
    form = ThemeForm(**kwargs)
    form.area.choices = [SelectChoice("", _("Kies..."))] + [
        SelectChoice(code, label) for code, label in current_taxonomy().choices("areas")]
    return form


def _theme_data(form: ThemeForm) -> services.ThemeData:
    rules = [
        services.RuleData(title=e.form.title.data or "", level=e.form.level.data,
                          source_url=e.form.source_url.data or "",
                          existing_room=e.form.existing_room.data or "",
                          title_en=e.form.title_en.data or "",
                          existing_room_en=e.form.existing_room_en.data or "")
        for e in form.rules.entries if not e.form.is_blank()
    ]
    return services.ThemeData(area=form.area.data, title=form.title.data or "",
                              description=form.description.data or "", rules=rules,
                              ask=form.ask.data or "",
                              experiment_provisions=form.experiment_provisions.data or "",
                              title_en=form.title_en.data or "",
                              description_en=form.description_en.data or "",
                              ask_en=form.ask_en.data or "")


@bp.route("/themas")
def themes():
    items = [(t, services.theme_stats(t)) for t in services.all_themes()]
    return render_template("moderation/themes.html", items=items)


def _edit_theme(theme: Theme | None):
    if request.method == "GET":
        data = None
        if theme is not None:
            data = {"area": theme.area_code, "title": theme.title,
                    "description": theme.description, "version_id": theme.version_id,
                    "ask": theme.ask, "experiment_provisions": theme.experiment_provisions,
                    "title_en": theme.title_en, "description_en": theme.description_en,
                    "ask_en": theme.ask_en,
                    "rules": [{"title": r.title, "level": r.level, "source_url": r.source_url,
                               "existing_room": r.existing_room, "title_en": r.title_en,
                               "existing_room_en": r.existing_room_en} for r in theme.rules]
                    or [{}]}
        form = _theme_form(data=data)
        return render_template("moderation/theme_form.html", form=form, theme=theme,
                               levels=RULE_LEVEL_LABELS)
    form = _theme_form()
    if request.form.get("action") == "add_rule":
        form.rules.append_entry()
        return render_template("moderation/theme_form.html", form=form, theme=theme,
                               levels=RULE_LEVEL_LABELS, focus=form.rules.entries[-1].id)
    stale = None
    if form.validate():
        raw_version = form.version_id.data or ""
        version = int(raw_version) if raw_version.isdigit() else None
        try:
            theme = services.save_theme(theme, _theme_data(form), actor=_actor(),
                                        expected_version=version if theme else None)
            db.session.commit()
        except services.StaleEntryError as exc:
            stale = str(exc)
        except StaleDataError:
            stale = _("Iemand anders heeft dit thema intussen gewijzigd. Uw wijzigingen zijn "
                      "niet opgeslagen.")
        else:
            flash(_("Het thema is opgeslagen."), "success")
            return redirect(url_for("moderation.theme", theme_id=theme.id))
        db.session.rollback()
        return render_template("moderation/theme_form.html", form=form, theme=theme,
                               levels=RULE_LEVEL_LABELS, stale=stale), 409
    return render_template("moderation/theme_form.html", form=form, theme=theme,
                           levels=RULE_LEVEL_LABELS), 422


@bp.route("/themas/nieuw", methods=["GET", "POST"])
def theme_new():
    return _edit_theme(None)


@bp.route("/themas/<int:theme_id>/bewerken", methods=["GET", "POST"])
def theme_edit(theme_id: int):
    return _edit_theme(db.session.get(Theme, theme_id) or abort(404))


@bp.route("/themas/<int:theme_id>")
def theme(theme_id: int):
    item = db.session.get(Theme, theme_id) or abort(404)
    obstacles = services.theme_obstacles(item)
    suggestions = services.suggest_obstacles(item)
    html = render_template(
        "moderation/theme.html", theme=item, stats=services.theme_stats(item),
        public_stats=services.theme_stats(item, published_only=True),
        obstacles=obstacles, suggestions=suggestions, levels=RULE_LEVEL_LABELS,
    )
    # The titles of linked and suggested confidential obstacles are on the page, with their
    # entry: one audit event per entry (an access record, committed; allowed on a GET).
    if services.record_confidential_obstacles_view(
            [*obstacles, *(o for o, _score in suggestions)], actor=_actor(), page=request.path):
        db.session.commit()
    return html


@bp.route("/themas/<int:theme_id>/koppelen", methods=["POST"])
def theme_link(theme_id: int):
    item = db.session.get(Theme, theme_id) or abort(404)
    ids = [int(v) for v in request.form.getlist("obstacle_ids") if v.isdigit()]
    count = moved = 0
    for obstacle in db.session.scalars(select(Obstacle).where(Obstacle.id.in_(ids))):
        moved += services.link_obstacle(obstacle, item, actor=_actor()) is not None
        count += 1
    db.session.commit()
    flash(_("%(n)d knelpunt(en) gekoppeld.", n=count), "success" if count else "error")
    if moved:
        _flash_moved(moved, item)
    return redirect(url_for("moderation.theme", theme_id=item.id))


@bp.route("/themas/<int:theme_id>/ontkoppelen/<int:obstacle_id>", methods=["POST"])
def theme_unlink(theme_id: int, obstacle_id: int):
    item = db.session.get(Theme, theme_id) or abort(404)
    obstacle = db.session.get(Obstacle, obstacle_id)
    if obstacle is None or obstacle.theme_id != item.id:
        abort(404)
    services.link_obstacle(obstacle, None, actor=_actor())
    db.session.commit()
    flash(_("Het knelpunt is losgekoppeld van het thema."), "success")
    return redirect(url_for("moderation.theme", theme_id=item.id))


@bp.route("/themas/<int:theme_id>/verwijderen", methods=["POST"])
def theme_delete(theme_id: int):
    item = db.session.get(Theme, theme_id) or abort(404)
    services.delete_theme(item, actor=_actor())
    db.session.commit()
    flash(_("Het thema is verwijderd; de knelpunten zijn losgekoppeld."), "success")
    return redirect(url_for("moderation.themes"))
