"""The administration's forms. Choices that depend on the user's scope are filled by the views."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from survey.domain.reference import CODE, CODE_MAX, MAX_PROCESSING_DAYS, RESERVED_CODES, is_reserved
from survey.models import ROLES
from survey.web import words

CODE_RULES = [
    DataRequired(),
    Length(max=CODE_MAX),
    Regexp(CODE, message=_l("Letters, digits, '.', '-' and '_' only, starting with a letter or digit.")),
]


def _not_reserved(form, field) -> None:
    if field.data and is_reserved(field.data):
        codes = ", ".join(sorted(RESERVED_CODES))
        raise ValidationError(
            _("This code is reserved: %(codes)s name the figures' own rows; choose another.", codes=codes)
        )


# Agencies, services and counters: their codes sit beside the figures' own in every table.
RECORD_CODE_RULES = [*CODE_RULES, _not_reserved]


def _no_line_breaks(form, field) -> None:
    if field.data and ("\n" in field.data or "\r" in field.data):
        raise ValidationError(_l("One line only."))


class AgencyForm(FlaskForm):
    code = StringField(_l("Code"), validators=RECORD_CODE_RULES)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200), _no_line_breaks])
    level = StringField(_l("Level (thanh_pho, so, phuong, xa...)"), validators=[Optional(), Length(max=32)])
    parent_code = SelectField(_l("Parent agency"), choices=[], validate_choice=True)
    questionnaire = SelectField(_l("Questionnaire"), choices=[])
    questionnaire_version = IntegerField(
        _l("Questionnaire version (blank: the latest)"), validators=[Optional(), NumberRange(min=1)]
    )
    active = BooleanField(_l("Active"), default=True)


class ServiceForm(FlaskForm):
    code = StringField(_l("Code"), validators=RECORD_CODE_RULES)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300), _no_line_breaks])
    field = StringField(_l("Field"), validators=[Optional(), Length(max=100)])
    processing_days = IntegerField(
        _l("Statutory processing days"), validators=[Optional(), NumberRange(min=0, max=MAX_PROCESSING_DAYS)]
    )
    active = BooleanField(_l("Active"), default=True)


class CounterForm(FlaskForm):
    code = StringField(_l("Code"), validators=RECORD_CODE_RULES)
    agency_code = SelectField(_l("Agency"), choices=[])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200), _no_line_breaks])
    questionnaire = SelectField(_l("Questionnaire"), choices=[])
    questionnaire_version = IntegerField(
        _l("Questionnaire version (blank: the latest)"), validators=[Optional(), NumberRange(min=1)]
    )
    active = BooleanField(_l("Active"), default=True)


class TargetForm(FlaskForm):
    code = StringField(_l("Code (names the status column, e.g. 86)"), validators=CODE_RULES)
    value = DecimalField(_l("Value (%)"), places=2, validators=[DataRequired(), NumberRange(min=0.01, max=100)])
    metric = SelectField(_l("Metric"), choices=[SelectChoice("overall", _l("Overall index"))])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=1000)])
    period_start = DateField(_l("In force from"), validators=[DataRequired()])
    period_end = DateField(_l("In force until (blank: open-ended)"), validators=[Optional()])
    source = TextAreaField(_l("Source document"), validators=[DataRequired(), Length(max=1000)])
    active = BooleanField(_l("Active"), default=True)

    def validate_period_end(self, field) -> None:
        if field.data and self.period_start.data and field.data < self.period_start.data:
            raise ValidationError(_l("The end comes before the start."))


class UserForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(),
            Length(max=254),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Not an e-mail address.")),
        ],
    )
    role = SelectField(_l("Role"), choices=[SelectChoice(r, words.ROLES[r]) for r in ROLES])
    agency_code = SelectField(_l("Agency (blank: all agencies)"), choices=[])
    password = PasswordField(
        _l("Password (at least 10 characters; blank keeps the current one)"),
        validators=[Optional(), Length(min=10, max=200)],
    )
    active = BooleanField(_l("Active"), default=True)


class ApiKeyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64), _no_line_breaks])
    agency_code = SelectField(_l("Agency (blank: all agencies)"), choices=[])
