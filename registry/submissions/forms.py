"""The public submission form: school, initiative, dimensions, obstacles and contact."""
from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Form,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import FieldList, FormField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from registry.geo.forms import validate_point
from registry.security.antispam import AntiSpamMixin
from registry.security.hygiene import CleanInputMixin
from registry.submissions.services import (
    ContactData,
    InitiativeData,
    ObstacleData,
    OrganisationData,
)
from registry.submissions.validation import (
    normalise_brin,
    normalise_postcode,
    normalise_qualification_codes,
    normalise_website,
    strip_filter,
)
from registry.taxonomy import constants
from registry.taxonomy.services import Taxonomy

STRIP = [strip_filter]


class SubForm(Form):
    """A nested form whose built-in WTForms messages are translated like FlaskForm's."""

    class Meta:
        def get_translations(self, form):
            from flask_wtf.i18n import translations

            return translations


# What a browser sends for a ticked checkbox (WTForms renders value="y"); nothing, "" or
# "false" is an unticked one. Anything else was not sent by the form and is refused.
CHECKBOX_VALUES = frozenset({"y", "on", "true", "1", "", "false"})


def checkbox_value(form, field) -> None:
    """Validator of a BooleanField: refuse a value the checkbox cannot send (WTForms would
    read any text as "ticked")."""
    if field.raw_data and (len(field.raw_data) > 1 or field.raw_data[0] not in CHECKBOX_VALUES):
        raise ValidationError(_l("Deze keuze is niet geldig. Vink het vakje aan of laat het "
                                 "leeg."))


def _choices(mapping: dict, blank: bool = True) -> list[SelectChoice]:
    options = [SelectChoice(str(key), label) for key, label in mapping.items()]
    return ([SelectChoice("", _l("Kies..."))] if blank else []) + options


class DimensionForm(SubForm):
    """One dimension of personalisation: current level and ambition, 0-3."""

    code = HiddenField()
    current_level = SelectField(
        _l("Nu"), choices=_choices(constants.LEVELS, blank=False), coerce=int, default=0,
        validators=[InputRequired(message=_l("Kies het huidige niveau."))],
    )
    ambition_level = SelectField(
        _l("Ambitie"), choices=_choices(constants.LEVELS, blank=False), coerce=int, default=0,
        validators=[InputRequired(message=_l("Kies het niveau dat u wilt bereiken."))],
    )


class ObstacleForm(SubForm):
    """One obstacle the initiative runs into."""

    area = SelectField(
        _l("Gebied"), choices=[], validators=[DataRequired(message=_l("Kies het gebied."))]
    )
    title = StringField(
        _l("Korte titel van het knelpunt"), filters=STRIP,
        validators=[
            DataRequired(message=_l("Geef het knelpunt een korte titel.")),
            Length(max=200, message=_l("Gebruik maximaal %(max)d tekens.")),
        ],
    )
    description = TextAreaField(
        _l("Beschrijving"), filters=STRIP,
        validators=[
            DataRequired(message=_l("Beschrijf het knelpunt.")),
            Length(max=5000, message=_l("Gebruik maximaal %(max)d tekens.")),
        ],
    )
    rule = StringField(
        _l("Regel waar u tegenaan loopt"), filters=STRIP,
        validators=[Optional(), Length(max=500, message=_l("Gebruik maximaal %(max)d tekens."))],
    )
    severity = SelectField(
        _l("Ernst"), choices=_choices(constants.SEVERITIES), coerce=lambda v: int(v) if v else None,
        validators=[InputRequired(message=_l("Kies hoe ernstig het knelpunt is."))],
    )
    status = SelectField(
        _l("Status"), choices=_choices(constants.OBSTACLE_STATUSES), default="open",
        validators=[DataRequired(message=_l("Kies de status van het knelpunt."))],
    )
    workaround = TextAreaField(
        _l("Hoe omzeilt u het knelpunt?"), filters=STRIP,
        validators=[Length(max=5000, message=_l("Gebruik maximaal %(max)d tekens."))],
    )
    policy_ask = TextAreaField(
        _l("Wat vraagt u van beleid?"), filters=STRIP,
        validators=[Optional(), Length(max=5000, message=_l("Gebruik maximaal %(max)d tekens."))],
    )
    # Issue 16: who may see this obstacle. A row posted without the field (a client that
    # predates it) keeps the default, like ``status``; an empty or unknown value is refused.
    visibility = RadioField(
        _l("Wie mag dit knelpunt zien?"), choices=_choices(constants.VISIBILITIES, blank=False),
        default=constants.PUBLIC, validate_choice=False,
    )

    # Issue 18: the school volunteers for a pilot or experiment on this obstacle (pilot
    # dossiers, registry.pilots). Unticked (or not sent) is "no".
    pilot_interest = BooleanField(
        _l("We willen meedoen aan een pilot of experiment rond dit knelpunt"),
        validators=[checkbox_value],
    )

    def validate_visibility(self, field):
        if field.data not in constants.VISIBILITIES:
            raise ValidationError(_l(
                "Kies of het knelpunt openbaar of vertrouwelijk is."))

    def validate_severity(self, field):
        if field.data not in constants.SEVERITIES:
            raise ValidationError(_l("Kies hoe ernstig het knelpunt is."))

    def validate_workaround(self, field):
        if self.status.data == "omzeild" and not field.data:
            raise ValidationError(_l("Beschrijf hoe u het knelpunt omzeilt."))

    def is_blank(self) -> bool:
        """A row the user added but left completely empty."""
        return not any(
            (self.title.data, self.description.data, self.rule.data, self.workaround.data,
             self.policy_ask.data, self.area.data, self.severity.raw_data and
             self.severity.raw_data[0], self.pilot_interest.data)
        )


class InitiativeForm(CleanInputMixin, FlaskForm):
    """Everything a school contact fills in; also used (without contact) to edit an entry."""

    # --- school
    school_name = StringField(
        _l("Naam van de school"), filters=STRIP,
        validators=[
            DataRequired(message=_l("Vul de naam van de school in.")),
            Length(max=200, message=_l("Gebruik maximaal %(max)d tekens.")),
        ],
    )
    # Optional: a school that is not in DUO's directory (or whose code the contact does not
    # know) is entered by hand and stored with ``brin == ""`` (not linked to a DUO school);
    # its place is then required (``validate_city``) and its location comes from the postcode.
    brin = StringField(
        _l("Instellingscode (BRIN)"), filters=[strip_filter, normalise_brin],
        validators=[Optional()],
    )
    location_number = StringField(
        _l("Vestigingsnummer"), filters=STRIP, validators=[Optional()],
    )
    sector = SelectField(
        _l("Sector"), choices=[],
        validators=[DataRequired(message=_l("Kies de sector."))],
    )
    levels = StringField(
        _l("Niveaus en opleidingen"), filters=STRIP,
        validators=[Optional(), Length(max=300, message=_l("Gebruik maximaal %(max)d tekens."))],
    )
    qualification_codes = StringField(
        _l("Crebo-codes (mbo)"), filters=[strip_filter],
        validators=[Optional(), Length(max=500, message=_l("Gebruik maximaal %(max)d tekens."))],
    )
    street = StringField(
        _l("Straat en huisnummer"), filters=STRIP,
        validators=[Optional(), Length(max=200, message=_l("Gebruik maximaal %(max)d tekens."))],
    )
    postcode = StringField(
        _l("Postcode"), filters=[strip_filter],
        validators=[DataRequired(message=_l("Vul de postcode in, bijvoorbeeld 1234 AB."))],
    )
    city = StringField(
        _l("Plaats"), filters=STRIP,
        validators=[Length(max=100, message=_l("Gebruik maximaal %(max)d tekens."))],
    )
    website = StringField(
        _l("Website"), filters=[strip_filter],
        validators=[Optional(), Length(max=300, message=_l("Gebruik maximaal %(max)d tekens."))],
    )

    # --- initiative
    title = StringField(
        _l("Naam van het initiatief"), filters=STRIP,
        validators=[
            DataRequired(message=_l("Vul de naam van het initiatief in.")),
            Length(max=200, message=_l("Gebruik maximaal %(max)d tekens.")),
        ],
    )
    summary = TextAreaField(
        _l("Samenvatting"), filters=STRIP,
        validators=[
            DataRequired(message=_l("Vat het initiatief samen in een paar zinnen.")),
            Length(max=300, message=_l("Gebruik maximaal %(max)d tekens voor de samenvatting.")),
        ],
    )
    description = TextAreaField(
        _l("Beschrijving"), filters=STRIP,
        validators=[Optional(), Length(max=10000, message=_l("Gebruik maximaal %(max)d tekens."))],
    )
    start_year = IntegerField(
        _l("Startjaar"),
        validators=[Optional()],
    )
    phase = SelectField(
        _l("Fase"), choices=[],
        validators=[DataRequired(message=_l("Kies in welke fase het initiatief is."))],
    )
    learners_count = IntegerField(
        _l("Aantal lerenden"),
        validators=[Optional(), NumberRange(
            min=0, max=1_000_000, message=_l("Vul een aantal tussen 0 en 1.000.000 in."))],
    )
    staff_count = IntegerField(
        _l("Aantal medewerkers"),
        validators=[Optional(), NumberRange(min=0, max=100_000,
                                            message=_l("Vul een aantal tussen 0 en 100.000 in."))],
    )
    ict = TextAreaField(
        _l("ICT die het initiatief ondersteunt"), filters=STRIP,
        validators=[Optional(), Length(max=2000, message=_l("Gebruik maximaal %(max)d tekens."))],
    )

    dimensions = FieldList(FormField(DimensionForm), min_entries=0)
    obstacles = FieldList(FormField(ObstacleForm), min_entries=1)

    def __init__(self, *args, taxonomy: Taxonomy, **kwargs):
        """``taxonomy`` gives the choices of sector, phase, area and the dimension rows."""
        super().__init__(*args, **kwargs)
        self.sector.choices = _choices(dict(taxonomy.choices("sectors")))
        self.phase.choices = _choices(dict(taxonomy.choices("phases")))
        self.area_choices = _choices(dict(taxonomy.choices("areas")))
        for entry in self.obstacles:
            entry.form.area.choices = self.area_choices
        self.dimension_labels = dict(taxonomy.choices("dimensions"))
        self.dimension_codes = list(self.dimension_labels)
        # Make sure there is exactly one entry per known dimension, in taxonomy order. A form
        # sent with other rows (opened before a dimension was added, or tampered with) is
        # rebuilt with the levels that were sent, and refused once with a message at the
        # dimensions (``validate_dimensions``), not at every level.
        present = [entry.form.code.data for entry in self.dimensions]
        self.dimensions_changed = bool(self.is_submitted() and self.dimensions.entries
                                       and present != self.dimension_codes)
        if not self.dimensions.entries or present != self.dimension_codes:
            existing = {e.form.code.data: e for e in self.dimensions}
            self.dimensions.entries = []
            self.dimensions.last_index = -1
            for code in self.dimension_codes:
                old = existing.get(code)
                levels = {"current_level": old.form.current_level.data if old else 0,
                          "ambition_level": old.form.ambition_level.data if old else 0}
                added = self.dimensions.append_entry({"code": code, **levels})
                added.form.code.data = code
                for name, value in levels.items():
                    # as if sent: the levels are there (InputRequired reads raw_data)
                    added.form[name].raw_data = [str(value if value is not None else 0)]

    def blank_obstacle(self):
        """An empty obstacle row named ``obstacles-__INDEX__`` for the JavaScript template."""
        name = f"{self.obstacles.name}-__INDEX__"
        form_class = self.obstacles.unbound_field.args[0]
        sub = form_class(formdata=None, prefix=name + "-")
        sub.area.choices = self.area_choices
        return SimpleNamespace(form=sub, id=name, name=name)

    def add_obstacle(self) -> None:
        entry = self.obstacles.append_entry()
        entry.form.area.choices = self.area_choices

    def remove_obstacle(self, index_name: str) -> bool:
        """Remove the obstacle row whose field name ends in ``index_name``; keep at least one."""
        if len(self.obstacles.entries) <= 1:
            return False
        for entry in list(self.obstacles.entries):
            if entry.name == f"{self.obstacles.name}-{index_name}":
                self.obstacles.entries.remove(entry)
                return True
        return False

    # --- field validators
    def validate_brin(self, field):
        if field.data and not re.fullmatch(r"[0-9]{2}[A-Z0-9]{2}", field.data):
            raise ValidationError(
                _l("Een instellingscode bestaat uit 2 cijfers en 2 letters, bijvoorbeeld 25LH.")
            )

    def validate_location_number(self, field):
        if field.data and not re.fullmatch(r"[0-9]{2}", field.data):
            raise ValidationError(
                _l("Een vestigingsnummer bestaat uit 2 cijfers, bijvoorbeeld 01."))
        if field.data and not self.brin.data:
            raise ValidationError(_l(
                "Een vestigingsnummer hoort bij een instellingscode. Vul de instellingscode in "
                "of laat het vestigingsnummer leeg."))

    def validate_city(self, field):
        # A school from DUO's directory is known by its code; one typed by hand needs its place.
        if not field.data and not self.brin.data:
            raise ValidationError(_l(
                "Vul de plaats van de school in. Die is nodig als u geen instellingscode "
                "invult."))

    def validate_qualification_codes(self, field):
        try:
            field.data = normalise_qualification_codes(field.data)
        except ValueError as exc:
            raise ValidationError(
                _l("Crebo-codes bestaan uit 5 cijfers, gescheiden door komma's. "
                   "Niet herkend: %(codes)s", codes=str(exc))
            ) from None

    def validate_postcode(self, field):
        normalised = normalise_postcode(field.data)
        if normalised is None:
            raise ValidationError(_l("Vul een geldige postcode in, bijvoorbeeld 1234 AB."))
        field.data = normalised

    def validate_website(self, field):
        normalised = normalise_website(field.data)
        if normalised is None:
            raise ValidationError(
                _l("Vul een geldig webadres in, bijvoorbeeld https://www.school.nl.")
            )
        field.data = normalised

    def validate_start_year(self, field):
        if field.data is not None and not 1900 <= field.data <= date.today().year + 1:
            raise ValidationError(
                _l("Vul een jaartal in tussen 1900 en %(max)d.", max=date.today().year + 1)
            )

    def validate_dimensions(self, field):
        if self.dimensions_changed:
            raise ValidationError(_l(
                "De lijst met dimensies is intussen gewijzigd. Controleer de niveaus hieronder "
                "en verstuur het formulier opnieuw."))
        if not any(
            (entry.form.current_level.data or 0) > 0 or (entry.form.ambition_level.data or 0) > 0
            for entry in field.entries
        ):
            raise ValidationError(
                _l("Geef bij minstens één dimensie een niveau of ambitie hoger dan 0.")
            )

    def validate_obstacles(self, field):
        most = current_app.config["MAX_OBSTACLES"]
        if len(field.entries) > most:
            raise ValidationError(_l("U kunt maximaal %(n)d knelpunten tegelijk melden.", n=most))
        if all(entry.form.is_blank() for entry in field.entries):
            raise ValidationError(_l("Meld minstens één knelpunt."))

    def validate(self, extra_validators=None) -> bool:
        # Completely empty extra obstacle rows are ignored rather than reported.
        filled = [e for e in self.obstacles.entries if not e.form.is_blank()]
        if filled and len(filled) < len(self.obstacles.entries):
            self.obstacles.entries = filled
        return super().validate(extra_validators)


class ContactForm(SubForm):
    name = StringField(
        _l("Naam"), filters=STRIP,
        validators=[
            DataRequired(message=_l("Vul uw naam in.")),
            Length(max=200, message=_l("Gebruik maximaal %(max)d tekens.")),
        ],
    )
    role = StringField(
        _l("Functie"), filters=STRIP,
        validators=[Optional(), Length(max=200, message=_l("Gebruik maximaal %(max)d tekens."))],
    )
    email = EmailField(
        _l("E-mailadres"), filters=[strip_filter],
        validators=[
            DataRequired(message=_l("Vul uw e-mailadres in.")),
            Length(max=254, message=_l("Gebruik maximaal %(max)d tekens.")),
            Email(message=_l("Vul een geldig e-mailadres in, bijvoorbeeld naam@school.nl."),
                  check_deliverability=False),
        ],
    )
    phone = StringField(
        _l("Telefoonnummer"), filters=STRIP,
        validators=[Optional(), Length(max=40, message=_l("Gebruik maximaal %(max)d tekens."))],
    )
    consent_contact = BooleanField(
        _l("Ik geef toestemming dat moderatoren van het register contact met mij opnemen "
           "over deze aanmelding."),
        validators=[DataRequired(message=_l(
            "Geef toestemming voor contact; zonder die toestemming kunnen we de aanmelding "
            "niet verwerken."))],
    )
    consent_publish_name = BooleanField(
        _l("Mijn naam mag bij het initiatief worden gepubliceerd."),
    )
    consent_quotes = BooleanField(
        _l("Geanonimiseerde citaten uit mijn aanmelding mogen in beleidsoverzichten verschijnen."),
    )
    accepts_messages = BooleanField(
        _l("Andere scholen mogen mij via het register een bericht sturen (mijn e-mailadres "
           "blijft verborgen)."),
    )
    consent_name_to_ocw = BooleanField(
        _l("Onze school mag bij naam genoemd worden aan het ministerie van OCW in een "
           "pilotdossier"),
        validators=[checkbox_value],
    )

    def validate_phone(self, field):
        if field.data:
            digits = re.sub(r"[\s\-().]", "", field.data)
            if not re.fullmatch(r"\+?[0-9]{9,15}", digits):
                raise ValidationError(
                    _l("Vul een geldig telefoonnummer in, bijvoorbeeld 030 123 45 67.")
                )


class SubmissionForm(AntiSpamMixin, InitiativeForm):
    """The public form: an initiative plus its contact."""

    contact = FormField(ContactForm, label=_l("Contactpersoon"))
    # Optional pin placed by the submitter on a small map (registry.geo; JS only).
    pin_latitude = HiddenField(_l("Locatie op de kaart"), validators=[Optional()])
    pin_longitude = HiddenField(_l("Locatie op de kaart"), validators=[Optional()])

    # True while the form is only checked (the check-your-answers page): a proof-of-work
    # solution can be used once, so it is verified when the entry is really sent.
    checking = False

    def validate_pin_latitude(self, field):
        try:
            self.pin = validate_point(field.data, self.pin_longitude.data)
        except ValueError:
            self.pin = None
            raise ValidationError(_l(
                "De speld op de kaart ligt niet in Nederland. Zet de speld opnieuw of haal "
                "hem weg.")) from None

    def validate_pow_solution(self, field):
        if not self.checking:
            super().validate_pow_solution(field)


def carried_values(form: InitiativeForm) -> list[tuple[str, str]]:
    """The form as it was posted, as (name, value) pairs for hidden inputs.

    The check-your-answers page re-posts these, so that "Wijzig" and "Versturen" get back
    exactly what was checked: nothing is kept on the server in between. Every value is the
    posted text (``raw_data``), so validating it again gives the same result. The CSRF token
    is left out (the page renders a fresh one), and so are the empty obstacle rows that
    ``validate`` dropped.
    """
    pairs: list[tuple[str, str]] = []

    def walk(field) -> None:
        if isinstance(field, (FormField, FieldList)):
            for sub in field:
                walk(sub)
        elif field.type != "CSRFTokenField":
            pairs.extend((field.name, str(value)) for value in field.raw_data or ())

    for field in form:
        walk(field)
    return pairs


def answer_text(field) -> str:
    """What a field holds, as the check-your-answers page shows it ("" when empty)."""
    if field.type == "BooleanField":
        return str(_l("Ja") if field.data else _l("Nee"))
    if field.type in ("SelectField", "RadioField"):
        for value, label, selected, *_rest in field.iter_choices():
            if selected and value != "":
                return str(label)
        return ""
    return "" if field.data is None else str(field.data)


def form_to_data(form: InitiativeForm, language: str = "nl") -> InitiativeData:
    """Turn a validated form into the plain data the service layer takes."""
    org = OrganisationData(
        name=form.school_name.data or "",
        brin=form.brin.data or "",
        location_number=form.location_number.data or None,
        sector=form.sector.data,
        levels=form.levels.data or "",
        qualification_codes=form.qualification_codes.data or "",
        street=form.street.data or "",
        postcode=form.postcode.data or "",
        city=form.city.data or "",
        website=form.website.data or "",
    )
    pin = getattr(form, "pin", None)  # set by SubmissionForm.validate_pin_latitude
    if pin:
        org.latitude, org.longitude = pin
    obstacles = []
    for entry in form.obstacles.entries:
        sub = entry.form
        if sub.is_blank():
            continue
        obstacle_id = getattr(sub, "obstacle_id", None)
        obstacles.append(ObstacleData(
            id=int(obstacle_id.data) if obstacle_id is not None and obstacle_id.data else None,
            area=sub.area.data, title=sub.title.data or "", description=sub.description.data or "",
            rule=sub.rule.data or "", severity=sub.severity.data, status=sub.status.data,
            workaround=sub.workaround.data or "", policy_ask=sub.policy_ask.data or "",
            visibility=sub.visibility.data, pilot_interest=bool(sub.pilot_interest.data),
        ))
    contact = None
    if "contact" in form:
        c = form.contact.form
        contact = ContactData(
            name=c.name.data, role=c.role.data or "", email=c.email.data.lower(),
            phone=c.phone.data or "", consent_contact=bool(c.consent_contact.data),
            consent_publish_name=bool(c.consent_publish_name.data),
            consent_quotes=bool(c.consent_quotes.data),
            accepts_messages=bool(c.accepts_messages.data),
            consent_name_to_ocw=bool(c.consent_name_to_ocw.data),
        )
    return InitiativeData(
        organisation=org,
        title=form.title.data or "",
        summary=form.summary.data or "",
        description=form.description.data or "",
        start_year=form.start_year.data,
        phase=form.phase.data,
        learners_count=form.learners_count.data,
        staff_count=form.staff_count.data,
        ict=form.ict.data or "",
        dimensions={
            e.form.code.data or "": (e.form.current_level.data, e.form.ambition_level.data)
            for e in form.dimensions.entries
        },
        obstacles=obstacles,
        contact=contact,
        language=language,
    )


def initiative_to_formdata(initiative) -> dict:
    """The stored initiative as form data (for editing), without the contact."""
    org = initiative.organisation
    data = {
        "school_name": org.name, "brin": org.brin, "location_number": org.location_number or "",
        "sector": org.sector, "levels": org.levels, "qualification_codes": org.qualification_codes,
        "street": org.street, "postcode": org.postcode, "city": org.city, "website": org.website,
        "title": initiative.title, "summary": initiative.summary,
        "description": initiative.description, "start_year": initiative.start_year,
        "phase": initiative.phase, "learners_count": initiative.learners_count,
        "staff_count": initiative.staff_count, "ict": initiative.ict,
        "dimensions": [
            {"code": d.dimension_code, "current_level": d.current_level,
             "ambition_level": d.ambition_level}
            for d in initiative.dimensions
        ],
        "obstacles": [
            {"obstacle_id": o.id, "area": o.area_code, "title": o.title,
             "description": o.description, "rule": o.rule, "severity": o.severity,
             "status": o.status, "workaround": o.workaround, "policy_ask": o.policy_ask,
             "visibility": o.visibility, "pilot_interest": bool(o.pilot_interest)}
            for o in initiative.obstacles
        ],
    }
    return data


class EditObstacleForm(ObstacleForm):
    """An obstacle row that remembers which stored obstacle it edits."""

    obstacle_id = HiddenField()


class EditInitiativeForm(InitiativeForm):
    """Editing an existing entry (submitter's manage page, moderators)."""

    obstacles = FieldList(FormField(EditObstacleForm), min_entries=1)
