"""The citizen's form, built from a questionnaire definition: one FlaskForm class per version."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp, ValidationError

from questionnaires import Definition, Item

NO_OPINION = "na"
HONEYPOT = "website"
SUBMISSION_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")  # \Z: "$" would also match before a final newline
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CLASSES: dict[tuple[str, int, str], type[FlaskForm]] = {}


INVALID_CHOICE = _l("Please choose one of the options shown.")


class ScaleField(RadioField):
    """A radio group over a scale's values plus "no opinion", which is no answer."""

    @property
    def answer(self) -> int | None:
        value = (self.data or "").strip()  # whitespace is blank, as Optional() sees it
        return None if value in ("", NO_OPINION) else int(value)


class ChoiceField(SelectField):
    """An optional background question; an empty choice is no answer."""

    @property
    def answer(self) -> int | None:
        value = (self.data or "").strip()
        return int(value) if value else None


def _plain_text(form, field) -> None:
    if field.data and CONTROL_CHARACTERS.search(field.data):
        raise ValidationError(_l("Please remove the special characters from your comment."))


def _empty(form, field) -> None:
    if field.data:
        raise ValidationError(_l("This field must be left empty."))


class CitizenForm(FlaskForm):
    """Fields shared by every questionnaire; subclasses add one field per item."""

    definition: Definition
    submission_key = HiddenField(
        validators=[Regexp(SUBMISSION_KEY, message=_l("The form is damaged; please reload the page."))]
    )
    website = StringField(validators=[_empty])

    def __init__(self, formdata=None, files=(), **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        self.posted = formdata
        self.files = list(files)  # uploaded file parts: never expected from a citizen

    def item_fields(self):
        return [self[item.code] for item in self.definition.items]

    def answers(self) -> dict[str, int]:
        """The items answered, by code (no-opinion and blank items left out)."""
        return {f.name: f.answer for f in self.item_fields() if f.answer is not None}

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        self.form_errors = list(self.form_errors)
        if self.posted is not None:
            unknown = [k for k in self.posted.keys() if k not in self._fields] + self.files
            repeated = [k for k in self.posted.keys() if len(self.posted.getlist(k)) > 1]
            if unknown or repeated:
                self.form_errors.append(_l("The form was sent with unexpected fields; please reload the page."))
        if valid and not any(self[c.code].answer is not None for c in self.definition.criteria):
            self.form_errors.append(_l("Please rate at least one statement before sending."))
        return valid and not self.form_errors


def _scale_choices(item: Item, locale: str) -> list[SelectChoice]:
    options = [SelectChoice(str(o.value), o.label.get(locale)) for o in item.scale.options]
    return options + [SelectChoice(NO_OPINION, _l("No opinion"))]


def form_class(definition: Definition, locale: str) -> type[CitizenForm]:
    """The form class of a questionnaire version in a locale, built once and cached."""
    key = (definition.id, definition.version, locale)
    if key in _CLASSES and _CLASSES[key].definition is definition:
        return _CLASSES[key]
    attrs: dict = {"definition": definition}
    for item in definition.criteria + definition.priorities:
        attrs[item.code] = ScaleField(
            item.text.get(locale),
            choices=_scale_choices(item, locale),
            validators=[Optional()],
            invalid_choice_message=INVALID_CHOICE,
        )
    for item in definition.background:
        choices = [SelectChoice("", _l("(not answered)"))]
        choices += [SelectChoice(str(o.value), o.label.get(locale)) for o in item.scale.options]
        attrs[item.code] = ChoiceField(
            item.text.get(locale), choices=choices, validators=[Optional()], invalid_choice_message=INVALID_CHOICE
        )
    if definition.comment:
        limit = definition.comment_max_length
        attrs["comment"] = TextAreaField(
            definition.comment.get(locale),
            validators=[
                Optional(),
                _plain_text,
                Length(max=limit, message=_l("Please keep your comment under %(n)s characters.", n=limit)),
            ],
        )
    cls = type(f"Form_{definition.id}_{definition.version}_{locale}", (CitizenForm,), attrs)
    _CLASSES[key] = cls
    return cls


def bind(definition: Definition, locale: str, formdata=None, files=()) -> CitizenForm:
    """Instantiate the form on the posted data and files (or on nothing, for a fresh page)."""
    return form_class(definition, locale)(formdata=formdata, files=files)
