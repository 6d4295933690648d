"""Forms for moderators: themes (with the rules behind them) and the queue filters."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import FieldList, FormField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from registry.moderation.models import RULE_LEVELS
from registry.submissions.forms import SubForm
from registry.submissions.validation import strip_filter

STRIP = [strip_filter]

# The choices of "where does the rule come from": the level's name with examples.
RULE_LEVEL_CHOICES = {
    "wet": _l("Wet (bijvoorbeeld WEB, WVO 2020, WPO, WHW)"),
    "amvb": _l("AMvB (bijvoorbeeld Examen- en kwalificatiebesluit, Eindexamenbesluit VO)"),
    "ministeriele_regeling": _l("Ministeriële regeling"),
    "toezicht": _l("Toezicht (onderzoekskader van de inspectie)"),
    "sectorafspraak": _l("Sectorafspraak (bijvoorbeeld SBB, sectorraad)"),
    "bestuur": _l("Bestuur of school (eigen keuze)"),
}
if set(RULE_LEVEL_CHOICES) != set(RULE_LEVELS):  # one list of levels (models.RULE_LEVELS)
    raise RuntimeError("RULE_LEVEL_CHOICES does not name every rule level")


class RuleForm(SubForm):
    title = StringField(_l("Regel"), filters=STRIP,
                        validators=[Optional(), Length(
                            max=300, message=_l("Gebruik maximaal %(max)d tekens."))])
    level = SelectField(_l("Waar komt de regel vandaan?"), validate_choice=False,  # see below
                        choices=[SelectChoice("", _l("Kies..."))]
                        + [SelectChoice(k, v) for k, v in RULE_LEVEL_CHOICES.items()])
    source_url = StringField(_l("Link naar de bron"), filters=STRIP,
                             validators=[Optional(), Length(
                                 max=500, message=_l("Gebruik maximaal %(max)d tekens."))])
    existing_room = TextAreaField(_l("Ruimte die er al is"), filters=STRIP,
                                  validators=[Optional(), Length(
                                      max=5000, message=_l("Gebruik maximaal %(max)d tekens."))])
    # Optional English texts (issue 19): the English interface shows them, else the Dutch.
    title_en = StringField(_l("Regel in het Engels"), filters=STRIP,
                           validators=[Optional(), Length(
                               max=300, message=_l("Gebruik maximaal %(max)d tekens."))])
    existing_room_en = TextAreaField(_l("Ruimte die er al is, in het Engels"),
                                     filters=STRIP, validators=[Optional(), Length(
                                         max=5000,
                                         message=_l("Gebruik maximaal %(max)d tekens."))])

    def is_blank(self) -> bool:
        return not (self.title.data or self.source_url.data or self.existing_room.data
                    or self.title_en.data or self.existing_room_en.data)

    def validate_level(self, field):
        if not self.is_blank() and field.data not in RULE_LEVELS:
            raise ValidationError(_l("Kies waar de regel vandaan komt."))

    def validate_title(self, field):
        if not self.is_blank() and not field.data:
            raise ValidationError(_l("Noem de regel, bijvoorbeeld 'WEB art. 7.4.6'."))

    def validate_source_url(self, field):
        if field.data and not field.data.startswith(("https://", "http://")):
            raise ValidationError(_l("Een link begint met https://, bijvoorbeeld "
                                     "https://wetten.overheid.nl/..."))


class ThemeForm(FlaskForm):
    area = SelectField(_l("Gebied"), choices=[],
                       validators=[DataRequired(message=_l("Kies het gebied."))])
    title = StringField(_l("Titel van het thema"), filters=STRIP, validators=[
        DataRequired(message=_l("Geef het thema een titel.")),
        Length(max=200, message=_l("Gebruik maximaal %(max)d tekens."))])
    description = TextAreaField(_l("Beschrijving"), filters=STRIP, validators=[
        Optional(), Length(max=10000, message=_l("Gebruik maximaal %(max)d tekens."))])
    # Issue 18: the one ask to OCW (key message, theme page) and the experiment provisions
    # that already exist (pilot dossiers).
    ask = TextAreaField(_l("Vraag aan OCW"), filters=STRIP, validators=[
        Optional(), Length(max=2000, message=_l("Gebruik maximaal %(max)d tekens."))])
    experiment_provisions = TextAreaField(_l("Bestaande experimenteerruimte"), filters=STRIP,
                                          validators=[Optional(), Length(
                                              max=5000,
                                              message=_l("Gebruik maximaal %(max)d tekens."))])
    # Optional English texts (issue 19): the English interface shows them, else the Dutch.
    title_en = StringField(_l("Titel in het Engels"), filters=STRIP, validators=[
        Optional(), Length(max=200, message=_l("Gebruik maximaal %(max)d tekens."))])
    description_en = TextAreaField(_l("Beschrijving in het Engels"), filters=STRIP,
                                   validators=[Optional(), Length(
                                       max=10000,
                                       message=_l("Gebruik maximaal %(max)d tekens."))])
    ask_en = TextAreaField(_l("Vraag aan OCW in het Engels"), filters=STRIP,
                           validators=[Optional(), Length(
                               max=2000, message=_l("Gebruik maximaal %(max)d tekens."))])
    rules = FieldList(FormField(RuleForm), min_entries=1, max_entries=20)
    version_id = HiddenField()
