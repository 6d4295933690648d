"""Words for the codes that staff screens show, in the interface language (Dutch first).

One module for every staff screen that shows what happened: the history of an entry and its
revision diffs, the staff events on the entry page, the audit log (``/beheer/audit``) and the
mail outbox (``/beheer/mail``). A screen never shows a storage key ("obstacles.246.status",
"initiative.summary"), an action code ("contact.view") or a status code ("applied",
"resolved"): it shows "Knelpunt 2 ("Examens op vaste momenten"): Status", the label of the
field on the form, "Contactgegevens bekeken", "doorgevoerd", "gevonden".

Field labels come from the WTForms forms the data is entered with (``InitiativeForm``,
``ObstacleForm``, ``DimensionForm``, ``ThemeForm``, ``InviteForm``), so a renamed label on a
form is renamed here too. A code without a label is shown as it is (never hidden); the tests
in ``tests/history/test_words.py`` read the codes from the source and fail on any without one.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms.fields.core import UnboundField

from registry.admin.forms import InviteForm
from registry.auth.models import User
from registry.database import as_utc
from registry.extensions import db
from registry.moderation.forms import RuleForm, ThemeForm
from registry.moderation.models import RULE_LEVEL_LABELS
from registry.published.filters import InitiativeFilter
from registry.submissions.forms import DimensionForm, InitiativeForm, ObstacleForm
from registry.submissions.models import Obstacle
from registry.submissions.services import ORGANISATION_FIELDS
from registry.taxonomy import constants
from registry.taxonomy.services import current as current_taxonomy


def form_label(form_class: type, name: str) -> Any:
    """The (lazy) label of field ``name`` of a WTForms form class, as the form shows it."""
    unbound = getattr(form_class, name)
    if not isinstance(unbound, UnboundField):
        raise TypeError(f"{form_class.__name__}.{name} is not a form field")
    return unbound.kwargs.get("label") or (unbound.args[0] if unbound.args else name)


def _text(value: Any) -> str:
    return str(value)


# --- yes/no, empty -----------------------------------------------------------------------------

def yes_no(value: bool) -> str:
    return _("ja") if value else _("nee")


EMPTY = _l("(leeg)")


# --- the revision diff (registry.history.services.diff) ----------------------------------------

# Snapshot keys whose form field has another name.
_ORGANISATION_FORM_NAMES = {"name": "school_name"}


def _organisation_label(name: str) -> Any | None:
    if name not in ORGANISATION_FIELDS:
        return None
    field = _ORGANISATION_FORM_NAMES.get(name, name)
    return form_label(InitiativeForm, field) if hasattr(InitiativeForm, field) else None


def _initiative_label(name: str) -> Any | None:
    if name in ("dimensions", "obstacles") or not hasattr(InitiativeForm, name):
        return None
    return form_label(InitiativeForm, name)


def _obstacle_label(name: str) -> Any | None:
    return form_label(ObstacleForm, name) if hasattr(ObstacleForm, name) else None


# Keys a change may carry besides the snapshot (``record_change(extra_changes=...)``).
EXTRA_CHANGE_LABELS = {"contact": _l("Contactgegevens")}
CONTACT_VALUES = {"present": _l("aanwezig"), "erased": _l("gewist")}


def _obstacle_position(obstacle_id: int, data: Mapping[str, Any] | None
                       ) -> tuple[int | None, str | None]:
    """(1-based position, title) of an obstacle in a snapshot, or from the database."""
    if data is not None:
        for position, item in enumerate(data.get("obstacles") or [], start=1):
            if item.get("id") == obstacle_id:
                return position, item.get("title")
        return None, None
    obstacle = db.session.get(Obstacle, obstacle_id)
    if obstacle is None or obstacle.initiative is None:
        return None, None
    ids = [o.id for o in obstacle.initiative.obstacles]
    return (ids.index(obstacle_id) + 1 if obstacle_id in ids else None), obstacle.title


def obstacle_name(ident: str, data: Mapping[str, Any] | None = None,
                  value: Any = None) -> str:
    """"Knelpunt 2 ("Examens op vaste momenten")": an obstacle of a diff key, numbered as on
    the entry (its position in ``data``, the snapshot the diff leads to); ``ident`` is the
    obstacle id or ``new-<position>``. ``value`` is the obstacle itself for an obstacle added
    or removed (it carries the title)."""
    title = value.get("title") if isinstance(value, Mapping) else None
    if ident.startswith("new-"):
        number = ident.removeprefix("new-")
        name = _("Nieuw knelpunt %(n)s", n=number)
    else:
        position, stored_title = (None, None)
        if ident.isdigit():
            position, stored_title = _obstacle_position(int(ident), data)
        title = title or stored_title
        if isinstance(value, Mapping) and position is None:
            name = _("Verwijderd knelpunt")
        elif position is None:
            name = _("Knelpunt")
        else:
            name = _("Knelpunt %(n)s", n=position)
    if title:
        return _("%(name)s (“%(title)s”)", name=name, title=title)
    return name


def change_label(key: str, data: Mapping[str, Any] | None = None, value: Any = None) -> str:
    """The label of a diff key: "Knelpunt 2 ("…"): Status", "School: Postcode", the form's
    label of an initiative field. ``data``: the snapshot the change leads to (numbering of
    obstacles); ``value``: the old or new value (the title of an added/removed obstacle)."""
    section, _dot, rest = key.partition(".")
    if key == "state":
        return _("Status van de aanmelding")
    if key in EXTRA_CHANGE_LABELS:
        return _text(EXTRA_CHANGE_LABELS[key])
    if section == "organisation" and (label := _organisation_label(rest)) is not None:
        return f"{_('School')}: {label}"
    if section == "initiative" and (label := _initiative_label(rest)) is not None:
        return _text(label)
    if section == "dimensions" and rest:
        return f"{_('Dimensie')}: {current_taxonomy().label('dimensions', rest)}"
    if section == "obstacles" and rest:
        ident, _dot, name = rest.partition(".")
        which = obstacle_name(ident, data, value)
        if not name:
            return which
        if (label := _obstacle_label(name)) is not None:
            return f"{which}: {label}"
    return key


def _dimension_value(value: Any) -> Any:
    if isinstance(value, list | tuple) and len(value) == 2:
        now, ambition = value
        return "; ".join([
            f"{form_label(DimensionForm, 'current_level')}: "
            f"{constants.LEVELS.get(now, now)}",
            f"{form_label(DimensionForm, 'ambition_level')}: "
            f"{constants.LEVELS.get(ambition, ambition)}",
        ])
    return value


VISIBILITY_LABELS = {constants.PUBLIC: _l("Openbaar"),
                     constants.CONFIDENTIAL: _l("Vertrouwelijk")}


def change_value(key: str, value: Any) -> Any:
    """A diff value as staff read it: codes as their labels, yes/no as words, an added or
    removed obstacle as its title and area."""
    if value is None:
        return ""
    section, _dot, rest = key.partition(".")
    name = rest.rpartition(".")[2] if section == "obstacles" else rest
    tax = current_taxonomy()
    if key == "state":
        return _text(constants.STATE_LABELS.get(value, value))
    if key == "contact":
        return _text(CONTACT_VALUES.get(value, value))
    if section == "dimensions":
        return _dimension_value(value)
    if section == "obstacles" and isinstance(value, Mapping):  # added or removed
        area = tax.label("areas", value.get("area"))
        return f"{value.get('title') or ''} ({area})"
    if isinstance(value, bool):
        return yes_no(value)
    if section == "organisation" and name == "sector":
        return tax.label("sectors", value)
    if section == "initiative" and name == "phase":
        return tax.label("phases", value)
    if section == "obstacles":
        if name == "area":
            return tax.label("areas", value)
        if name == "severity":
            return _text(constants.SEVERITIES.get(value, value))
        if name == "status":
            return _text(constants.OBSTACLE_STATUSES.get(value, value))
        if name == "visibility":
            return _text(VISIBILITY_LABELS.get(value, value))
    return value


def changed_fields(changes: Mapping[str, Any] | None,
                   data: Mapping[str, Any] | None = None) -> list[str]:
    """The labels of the keys of a diff, for the history's "changed fields" column."""
    out = []
    for key, change in (changes or {}).items():
        value = None
        if isinstance(change, list | tuple) and len(change) == 2:
            value = change[0] if change[0] is not None else change[1]
        out.append(change_label(key, data, value))
    return out


# --- revisions: who, what, status --------------------------------------------------------------

ACTOR_TYPE_LABELS = {
    "submitter": _l("school (indiener)"),
    "moderator": _l("moderator"),
    "system": _l("systeem"),
}
REVISION_KIND_LABELS = {
    "create": _l("Aanmelding ingediend"),
    "confirm": _l("E-mailadres bevestigd"),
    "edit": _l("Wijziging"),
    "request_changes": _l("Wijzigingen gevraagd"),
    "publish": _l("Gepubliceerd"),
    "reject": _l("Afgewezen"),
    "reclassify": _l("Ander gebied voor een knelpunt"),
    "visibility": _l("Zichtbaarheid van een knelpunt"),
    "withdraw": _l("Ingetrokken"),
    "erase": _l("Contactgegevens gewist"),
    "merge": _l("Samengevoegd (andere aanmelding opgenomen)"),
    "merged": _l("Samengevoegd in een andere aanmelding"),
    "unmerge": _l("Samenvoegen ongedaan gemaakt"),
    "link_school": _l("Gekoppeld aan een school uit DUO"),
    "import": _l("Geïmporteerd uit een lijst"),
}
REVISION_STATUS_LABELS = {
    "applied": _l("doorgevoerd"),
    "pending": _l("wacht op beoordeling"),
    "approved": _l("goedgekeurd"),
    "discarded": _l("verworpen"),
}
REVISION_REASON_LABELS = {"superseded": _l("vervangen door een nieuwere wijziging")}
ROLE_NAMES = {
    "advisor": _l("beleidsadviseur"),
    "moderator": _l("moderator"),
    "admin": _l("beheerder"),
}


def user_label(user) -> str:
    """"Naam (moderator)" of a staff account; its e-mail address when it has no name."""
    role = _text(ROLE_NAMES.get(user.role, user.role))
    return f"{user.name or user.email} ({role})"


def revision_actor(revision) -> str:
    """Who made a revision: the school, a named staff member, the system."""
    if revision.actor_type == "moderator" and revision.actor is not None:
        return user_label(revision.actor)
    return _text(ACTOR_TYPE_LABELS.get(revision.actor_type, revision.actor_type))


def revision_kind(kind: str) -> str:
    return _text(REVISION_KIND_LABELS.get(kind, kind))


def revision_status(status: str) -> str:
    return _text(REVISION_STATUS_LABELS.get(status, status))


def revision_reason(reason: str) -> str:
    return _text(REVISION_REASON_LABELS.get(reason, reason))


# --- the audit log ------------------------------------------------------------------------------

ACTION_LABELS = {
    # entries
    "initiative.confirm": _l("Aanmelding bevestigd door de school"),
    "initiative.publish": _l("Aanmelding gepubliceerd"),
    "initiative.reject": _l("Aanmelding afgewezen"),
    "initiative.request_changes": _l("Wijzigingen gevraagd aan de contactpersoon"),
    "initiative.edit": _l("Aanmelding gewijzigd"),
    "initiative.revision_proposed": _l("Wijziging voorgesteld door de school"),
    "initiative.withdraw": _l("Aanmelding ingetrokken"),
    "initiative.erase": _l("Gegevens gewist op verzoek (AVG)"),
    "initiative.purge_unconfirmed": _l("Onbevestigde aanmeldingen verwijderd"),
    "initiative.purge_retention": _l("Oude aanmeldingen verwijderd (bewaartermijn)"),
    "initiative.merge": _l("Aanmeldingen samengevoegd"),
    "initiative.merge_undo": _l("Samenvoegen ongedaan gemaakt"),
    "initiative.link_school": _l("Gekoppeld aan een school uit DUO"),
    "initiative.import": _l("Lijst met initiatieven geïmporteerd"),
    "revision.approve": _l("Wijziging goedgekeurd"),
    "revision.discard": _l("Wijziging verworpen"),
    "duplicate.not_duplicate": _l("Geen dubbele aanmelding"),
    "duplicate.not_duplicate_revert": _l("Toch mogelijk dubbel (besluit teruggedraaid)"),
    "contact.view": _l("Contactgegevens bekeken"),
    "contact.consent_name_to_ocw": _l("Toestemming naam aan OCW gewijzigd"),
    # obstacles and themes
    "obstacle.reclassify": _l("Knelpunt naar een ander gebied"),
    "obstacle.link_theme": _l("Knelpunt aan een thema gekoppeld"),
    "obstacle.unlink_theme": _l("Knelpunt van een thema losgekoppeld"),
    "obstacle.visibility": _l("Zichtbaarheid van een knelpunt gewijzigd"),
    "obstacle.confidential_view": _l("Vertrouwelijke knelpunten bekeken"),
    "theme.create": _l("Thema aangemaakt"),
    "theme.edit": _l("Thema gewijzigd"),
    "theme.delete": _l("Thema verwijderd"),
    "pilot.dossier": _l("Pilotdossier gedownload"),
    # data
    "snapshot.create": _l("Momentopname gemaakt"),
    "export.contacts": _l("Contactgegevens geëxporteerd"),
    "geo.location_changed": _l("Locatie met de hand aangepast"),
    "geo.location_reset": _l("Locatie opnieuw automatisch bepaald"),
    # mail and contact between schools
    "mail.outbox_viewed": _l("Uitgaande e-mail bekeken"),
    "mail.retry": _l("E-mail opnieuw in de wachtrij gezet"),
    "connect.relay": _l("Bericht van een andere school doorgestuurd"),
    "connect.reply": _l("Antwoord doorgestuurd"),
    "connect.accepts_messages": _l("Berichten van andere scholen aan- of uitgezet"),
    "connect.notify": _l("Attenderingen op nieuwe initiatieven verstuurd"),
    # accounts
    "user.create": _l("Account aangemaakt"),
    "user.role": _l("Rol gewijzigd"),
    "user.activate": _l("Account geactiveerd"),
    "user.deactivate": _l("Account gedeactiveerd"),
    "user.password_link": _l("Link voor een nieuw wachtwoord verstuurd"),
    "user.password_set": _l("Wachtwoord ingesteld"),
    "user.password_change": _l("Wachtwoord gewijzigd"),
    "user.totp_enrol": _l("Tweede inlogstap ingesteld"),
    "user.totp_reset": _l("Tweede inlogstap opnieuw ingesteld"),
    "login.success": _l("Ingelogd"),
    "login.failure": _l("Inloggen mislukt"),
    "logout": _l("Uitgelogd"),
}
# Groups of the action filter (the filter matches actions by this prefix).
ACTION_GROUP_LABELS = {
    "initiative": _l("Aanmeldingen"), "revision": _l("Wijzigingen"),
    "duplicate": _l("Dubbele aanmeldingen"), "contact": _l("Contactgegevens"),
    "obstacle": _l("Knelpunten"), "theme": _l("Thema's"), "pilot": _l("Pilotdossiers"),
    "snapshot": _l("Momentopnamen"), "export": _l("Exports"), "geo": _l("Locaties"),
    "mail": _l("E-mail"), "connect": _l("Contact tussen scholen"), "user": _l("Accounts"),
    "login": _l("Inloggen"), "logout": _l("Uitloggen"),
}
TARGET_TYPE_LABELS = {
    "initiative": _l("Aanmelding"), "obstacle": _l("Knelpunt"), "theme": _l("Thema"),
    "user": _l("Account"), "snapshot": _l("Momentopname"), "export": _l("Export"),
    "outbox_message": _l("Uitgaande e-mail"),
    "import": _l("Geïmporteerde lijst"),
}
# Who did it, when it was not a staff account.
ACTOR_NAME_LABELS = {
    "system": _l("systeem"),
    "cli": _l("beheerder (opdrachtregel)"),
    "submitter": _l("school (indiener)"),
}
# Reasons the code itself writes (a staff member's reason is shown as typed).
REASON_LABELS = {
    "unknown account": _l("onbekend account"),
    "inactive": _l("account niet actief"),
    "locked": _l("account tijdelijk geblokkeerd"),
    "wrong password": _l("verkeerd wachtwoord"),
    "wrong password; account locked": _l("verkeerd wachtwoord; account tijdelijk geblokkeerd"),
    "wrong code": _l("verkeerde code"),
    "wrong code; account locked": _l("verkeerde code; account tijdelijk geblokkeerd"),
    "code used before": _l("code al eerder gebruikt"),
    "code used before; account locked": _l(
        "code al eerder gebruikt; account tijdelijk geblokkeerd"),
    "second factor not set up": _l("tweede inlogstap nog niet ingesteld"),
    "idle timeout": _l("te lang niet actief"),
    "session lifetime reached": _l("maximale duur van de sessie bereikt"),
    "AVG art. 17: entry not published, deleted": _l(
        "AVG art. 17: aanmelding was niet gepubliceerd en is verwijderd"),
    "AVG art. 17: contact data erased": _l("AVG art. 17: contactgegevens gewist"),
    "opt-in link": _l("via de link om berichten weer te ontvangen"),
    "opt-out link in relayed mail": _l("via de afmeldlink in een doorgestuurd bericht"),
}


def action_label(action: str) -> str:
    return _text(ACTION_LABELS.get(action, action))


def action_group_label(prefix: str) -> str:
    return _text(ACTION_GROUP_LABELS.get(prefix, prefix))


def action_choices(actions) -> list[tuple[str, list[tuple[str, str]]]]:
    """The audit filter's options, grouped: [(group label, [(action, label), ...]), ...]."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for action in actions:
        groups.setdefault(action.partition(".")[0], []).append((action, action_label(action)))
    return [(action_group_label(prefix), sorted(items, key=lambda item: item[1]))
            for prefix, items in sorted(groups.items(),
                                        key=lambda group: action_group_label(group[0]))]


def target_type_label(target_type: str) -> str:
    return _text(TARGET_TYPE_LABELS.get(target_type, target_type))


def actor_name(label: str, actor_id: int | None = None) -> str:
    """Who did it (an audit event's ``actor_label`` and ``actor_id``): a staff account as
    "Naam (rol)", the school, the system; else the label as recorded (an e-mail address
    typed at a failed login)."""
    user = db.session.get(User, actor_id) if actor_id is not None else None
    if user is not None:
        return user_label(user)
    return _text(ACTOR_NAME_LABELS.get(label, label))


def reason_label(reason: str) -> str:
    return _text(REASON_LABELS.get(reason, reason))


# Labels of the keys of an audit event's before/after.
def _detail_labels() -> dict[str, Any]:
    return {
        "state": _l("Status"),
        "role": form_label(InviteForm, "role"),
        "email": form_label(InviteForm, "email"),
        "name": form_label(InviteForm, "name"),
        "active": _l("Actief"),
        "other": _l("Andere aanmelding"),
        "other_reference": _l("Kenmerk van de andere aanmelding"),
        "fields_from_other": _l("Overgenomen van de andere aanmelding"),
        "obstacles_moved": _l("Verplaatste knelpunten"),
        "obstacles_moved_back": _l("Teruggezette knelpunten"),
        "merge_operation": _l("Samenvoeging"),
        "kept": _l("Behouden aanmelding"),
        "merged": _l("Samengevoegde aanmelding"),
        "status": _l("Status"),
        "decided_at": _l("Besloten op"),
        "decided_by": _l("Besloten door"),
        "revision": _l("Wijziging"),
        "area": form_label(ThemeForm, "area"),
        "theme": _l("Thema"),
        **{name: form_label(ThemeForm, name)
           for name in ("title", "description", "ask", "experiment_provisions", "title_en",
                        "description_en", "ask_en") if hasattr(ThemeForm, name)},
        "rules": _l("Regels"),
        **{name: form_label(RuleForm, name)
           for name in ("level", "source_url", "existing_room", "existing_room_en")
           if hasattr(RuleForm, name)},
        "code": _l("Code"),
        "duo_name": _l("Naam in DUO"),
        "kept_name": _l("Eigen naam van de school behouden"),
        "initiatives": _l("Aanmeldingen"),
        "obstacles": _l("Knelpunten"),
        "new_obstacles": _l("Nieuwe knelpunten"),
        "schools": _l("Scholen"),
        "named": _l("Bij naam genoemd"),
        "counted": _l("Alleen meegeteld"),
        "reports": _l("Meldingen"),
        "filter": _l("Filter"),
        "count": _l("Aantal"),
        "format": _l("Bestandsformaat"),
        "contact_request_id": _l("Contactverzoek"),
        "accepts_messages": _l("Berichten van andere scholen"),
        "mails": _l("E-mails"),
        "obstacle": _l("Knelpunt"),
        "visibility": _l("Zichtbaarheid"),
        "outcome": _l("Uitkomst"),
        "consent": _l("Toestemming"),
        "ids": _l("Aanmeldingen"),
        "references": _l("Kenmerken"),
        "by_state": _l("Per status"),
        "months": _l("Bewaartermijn in maanden"),
        "cutoff": _l("Gewijzigd vóór"),
        "latitude": _l("Breedtegraad"),
        "longitude": _l("Lengtegraad"),
        "municipality": _l("Gemeente"),
        "province": _l("Provincie"),
        "geo_source": _l("Bron van de locatie"),
        "geo_precision": _l("Nauwkeurigheid van de locatie"),
        "geo_status": _l("Locatie"),
        # an imported list (registry.imports)
        "file": _l("Bestand"),
        "source": _l("Bron van de lijst"),
        "rows": _l("Rijen"),
        "imported": _l("Geïmporteerd"),
        "invalid": _l("Niet geldig"),
        "duplicates": _l("Mogelijk dubbel"),
        "imported_before": _l("Al eerder geïmporteerd"),
        "invitations": _l("Uitnodigingen aan contactpersonen"),
    }


GEO_STATUS_LABELS = {
    "todo": _l("nog niet bepaald"), "resolved": _l("gevonden"), "failed": _l("niet gevonden"),
}
GEO_SOURCE_LABELS = {
    "school": _l("scholenregister DUO"), "mbo": _l("mbo-instellingen DUO"),
    "postcode": _l("postcodegebied"), "online": _l("online geocoder"),
    "manual": _l("met de hand"),
}
GEO_PRECISION_LABELS = {
    "address": _l("adres"), "postcode": _l("postcode"), "place": _l("plaats"),
    "manual": _l("met de hand"),
}
# The status of a pair of possible duplicates (moderation.models.DuplicateFlag).
DUPLICATE_STATUS_LABELS = {
    "open": _l("mogelijk dubbel"), "not_duplicate": _l("geen dubbele"),
    "merged": _l("samengevoegd"),
}
EXPORT_FORMATS = {"csv": "CSV", "xlsx": "XLSX (Excel)", "json": "JSON", "geojson": "GeoJSON"}
# Keys whose value is the number of an entry, obstacle, theme, ...
_NUMBERED = ("other", "obstacle", "theme", "revision", "contact_request_id", "kept", "merged",
             "merge_operation")


def geo_status_label(status: str | None) -> str:
    return _text(GEO_STATUS_LABELS.get(status or "todo", status))


def _number(value: Any) -> Any:
    return _("nr. %(n)s", n=value) if isinstance(value, int) else value


def _merge_field_key(name: str) -> str:
    """The diff key of a field of the merge form (a field of ``InitiativeForm``)."""
    snapshot_name = {v: k for k, v in _ORGANISATION_FORM_NAMES.items()}.get(name, name)
    section = "organisation" if snapshot_name in ORGANISATION_FIELDS else "initiative"
    return f"{section}.{snapshot_name}"


def _date(value: str) -> str:
    try:
        return format_date(as_utc(datetime.fromisoformat(value)), "long")
    except ValueError:
        return value


def _words(value: Any) -> str:
    """Any other value: yes/no, lists and mappings in words."""
    if value is None or value == "":
        return _text(EMPTY)
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, list | tuple):
        return ", ".join(_words(v) for v in value) if value else _("geen")
    if isinstance(value, Mapping):
        return "; ".join(f"{detail_label(k)}: {detail_value(k, v)}" for k, v in value.items())
    return _text(value)


def _rule_words(rule: Any) -> str:
    """A theme's rule (``title``, ``level``, ...) with the labels of the rule form."""
    if not isinstance(rule, Mapping):
        return _words(rule)
    parts = []
    for name, value in rule.items():
        label = form_label(RuleForm, name) if hasattr(RuleForm, name) else name
        parts.append(f"{label}: {detail_value(name, value) if name == 'level' else _words(value)}")
    return "; ".join(parts)


def detail_label(key: str, target_type: str = "") -> str:
    """The label of a key in an audit event's before/after (diff keys as in the history;
    fields of the school of an entry as on the form)."""
    if key == "state" or "." in key or key in EXTRA_CHANGE_LABELS:
        return change_label(key)
    if target_type == "initiative" and (label := _organisation_label(key)) is not None:
        return f"{_('School')}: {label}"
    return _text(_detail_labels().get(key, key))


def detail_value(key: str, value: Any, target_type: str = "") -> str:
    """A value in an audit event's before/after, in words."""
    tax = current_taxonomy()
    if "." in key or key in EXTRA_CHANGE_LABELS:
        return _words(change_value(key, value))
    if value is None:
        return _text(EMPTY)
    if key == "state":
        return _text(constants.STATE_LABELS.get(value, value))
    if key == "status" and isinstance(value, str):
        return _text(DUPLICATE_STATUS_LABELS.get(value, value))
    if key == "role":
        return _text(ROLE_NAMES.get(value, value))
    if key == "area":
        return tax.label("areas", value)
    if key == "sector" and target_type == "initiative":
        return tax.label("sectors", value)
    if key == "level":
        return _text(RULE_LEVEL_LABELS.get(value, value))
    if key == "visibility":
        return _text(VISIBILITY_LABELS.get(value, value))
    if key in ("outcome", "revision") and isinstance(value, str):
        return revision_status(value)
    if key == "by_state" and isinstance(value, Mapping):
        return ", ".join(f"{constants.STATE_LABELS.get(k, k)}: {v}" for k, v in value.items())
    if key == "rules" and isinstance(value, list):
        return " | ".join(_rule_words(rule) for rule in value) if value else _("geen")
    if key == "fields_from_other" and isinstance(value, Mapping):
        return "; ".join(f"{change_label(_merge_field_key(k))}: "
                         f"{_words(change_value(_merge_field_key(k), v))}"
                         for k, v in value.items())
    if key == "geo_status":
        return geo_status_label(value)
    if key == "geo_source":
        return _text(GEO_SOURCE_LABELS.get(value, value))
    if key == "geo_precision":
        return _text(GEO_PRECISION_LABELS.get(value, value))
    if key == "format":
        return EXPORT_FORMATS.get(value, value)
    if key == "filter" and isinstance(value, str):
        return filter_text(value)
    if key in ("cutoff", "decided_at") and isinstance(value, str):
        return _date(value)
    if key == "decided_by" and isinstance(value, int):
        return actor_name("", value)
    if key in _NUMBERED:
        return _words(_number(value))
    return _words(value)


def details(data: Mapping[str, Any] | None, target_type: str = "") -> list[tuple[str, str]]:
    """An audit event's before or after as (label, value in words) pairs."""
    return [(detail_label(k, target_type), detail_value(k, v, target_type))
            for k, v in (data or {}).items()]


def filter_text(described: str) -> str:
    """A filter stored as ``InitiativeFilter.describe()`` ("sector=mbo;province=Limburg"), in
    words ("Sector: mbo; Provincie: Limburg")."""
    args: MultiDict = MultiDict()
    if described and described != "alle":
        for part in described.split(";"):
            key, _eq, value = part.partition("=")
            for item in value.split("+"):
                args.add(key, item)
    return InitiativeFilter.from_args(args).words()


# --- the outbox ---------------------------------------------------------------------------------

MAIL_KIND_LABELS = {
    "confirm": _l("Bevestiging van een aanmelding"),
    "manage_link": _l("Persoonlijke link om de aanmelding te beheren"),
    "moderation.rejected": _l("Aanmelding afgewezen"),
    "moderation.changes_requested": _l("Vraag om wijzigingen"),
    "moderation.published": _l("Aanmelding gepubliceerd"),
    "moderation.edit_approved": _l("Wijziging goedgekeurd"),
    "moderation.edit_discarded": _l("Wijziging niet overgenomen"),
    "moderation.merged": _l("Aanmelding samengevoegd"),
    "auth.invite": _l("Uitnodiging voor een account"),
    "auth.password_link": _l("Link voor een nieuw wachtwoord"),
    "connect_relay": _l("Bericht van een andere school"),
    "connect_reply": _l("Antwoord op een bericht"),
    "connect_subscribe": _l("Bevestiging van een attendering"),
    "connect_notify": _l("Attendering: nieuwe initiatieven"),
    "import.invitation": _l("Uitnodiging om een geïmporteerde aanmelding over te nemen"),
}
MAIL_STATUS_LABELS = {
    "queued": _l("in wachtrij"), "sending": _l("wordt verstuurd"), "failed": _l("mislukt"),
    "sent": _l("verstuurd"),
}


def mail_kind_label(kind: str) -> str:
    return _text(MAIL_KIND_LABELS.get(kind, kind))


def mail_status_label(status: str) -> str:
    return _text(MAIL_STATUS_LABELS.get(status, status))


def template_globals() -> dict[str, Any]:
    """Everything above that templates use (registered by ``registry.templating``)."""
    return {
        "change_label": change_label, "change_value": change_value,
        "changed_fields": changed_fields, "revision_actor": revision_actor,
        "revision_kind": revision_kind, "revision_status": revision_status,
        "revision_reason": revision_reason, "action_label": action_label,
        "target_type_label": target_type_label, "actor_name": actor_name,
        "reason_label": reason_label, "audit_details": details,
        "geo_status_label": geo_status_label, "mail_kind_label": mail_kind_label,
        "mail_status_label": mail_status_label, "yes_no": yes_no,
    }
