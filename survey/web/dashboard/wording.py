"""The dashboard's words and number formats in the user's language: for its pages, charts and tables.

analysis draws in Vietnamese unless given a ``Wording``; this builds one from the translations
(Flask-Babel) and Babel's locale formats, so a page, its charts, their alt texts and data tables
read alike: "86,6 %" and "12/2026" in Vietnamese, "86.6%" and "December 2026" in English.
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# One wording per status, used by the page, the charts and their tables.
STATUS_WORDS = {
    "met": _l("Met"),
    "not_met": _l("Not met"),
    "inconclusive": _l("Not yet conclusive"),
    "insufficient": _l("Too few answers"),
}


def _decimals(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def number(value, decimals: int = 1) -> str:
    """A number in the user's locale: 1.234,5 or 1,234.5."""
    return format_decimal(float(value), _decimals(decimals), locale=str(get_locale()))


def percent(value, decimals: int = 1) -> str:
    """A percentage (given as 0–100) in the user's locale: 86,6 % or 86.6%."""
    # Translators: the CLDR pattern of a percentage with one decimal; Vietnamese writes a space before %.
    pattern = _("#,##0.0%").replace("#,##0.0", _decimals(decimals))
    return format_percent(float(value) / 100, pattern, locale=str(get_locale()))


def signed(value, decimals: int = 1) -> str:
    """A change in points with its sign: +1,2 or −0.5."""
    text = number(abs(float(value)), decimals)
    return ("+" if value > 0 else "−" if value < 0 else "") + text


def month(period: str) -> str:
    """A 'YYYY-MM' month in the user's locale: 12/2026 or December 2026."""
    year, mm = str(period).split("-")
    # Translators: the CLDR date pattern of a month; Vietnamese writes 12/2026.
    return format_date(date(int(year), int(mm), 1), _("MMMM yyyy"), locale=str(get_locale()))


def day(when: date) -> str:
    """A day in the user's locale: 04/12/2026 or December 4, 2026."""
    # Translators: the CLDR date pattern of a day; Vietnamese writes 04/12/2026.
    return format_date(when, _("MMMM d, yyyy"), locale=str(get_locale()))


def words() -> dict[str, str]:
    """The charts' words (the keys of analysis.wording.VI) in the user's language."""
    return {
        "footer": _("Source: counter survey, not the official SIPAS index"),
        "no_data": _("No data yet"),
        "pct_label": _("Share satisfied (%)"),
        **{f"status.{code}": str(text) for code, text in STATUS_WORDS.items()},
        "target": _("Target {value}"),
        "title.trend": _("Trend of the overall satisfaction index"),
        "title.volume": _("Survey responses per month"),
        "title.ranking": _("Agencies ranked by overall satisfaction index"),
        "title.elements": _("Satisfaction index by element"),
        "title.criteria": _("Share satisfied by criterion"),
        "title.heatmap": _("Share satisfied by agency and criterion"),
        "title.priorities": _("Improvement priorities citizens expect"),
        "in_month": _(", {month}"),
        "all_agencies": _("All agencies"),
        "interval": _("95% confidence interval"),
        "overall": _("Overall satisfaction index"),
        "too_few": _("Too few answers (n < {min_n})"),
        "too_few_row": _("{name} · too few answers (n = {n})"),
        "ranking_axis": _("Share satisfied (%), 95% confidence interval"),
        "heatmap_axis": _("Hatched cell: too few answers (n < {min_n}); blank cell: no answers"),
        "priorities_axis": _("Share of respondents choosing “Much” or “Very much” (%)"),
        "responses": _("Responses"),
        "rate_legend": _("Response rate (% of invitations answered)"),
        "rate_axis": _("Response rate (%)"),
        "col.month": _("Month"),
        "col.responses": _("Responses"),
        "col.issued": _("Invitations"),
        "col.used": _("Invitations answered"),
        "col.rate": _("Response rate (%)"),
        "col.rank": _("Rank"),
        "col.agency": _("Agency"),
        "col.code": _("Code"),
        "col.element": _("Element"),
        "col.text": _("Statement"),
        "col.answers": _("Answers"),
        "col.order": _("Order"),
        "col.pct": _("Share satisfied (%)"),
        "col.low": _("95% CI: lower bound"),
        "col.high": _("95% CI: upper bound"),
        "col.chosen": _("Share choosing “Much”, “Very much” (%)"),
        "alt.no_data": _("{title}: no data yet."),
        "alt.volume": _("Bar chart: responses per month from {start} to {end}, {total} responses in all{rate}."),
        "alt.volume_rate": _(" and a line of the response rate"),
        "alt.trend": _(
            "Line chart: overall satisfaction index per month, from {start} to {end}, "
            "with its 95% confidence interval and the targets."
        ),
        "alt.value": _("{label} ({value})"),
        "alt.ranking": _("Dot chart: {count} agencies ranked by overall satisfaction index"),
        "alt.ranking_ends": _(", highest {best}, lowest {worst}"),
        "alt.ranking_few": _("; {few} agencies with fewer than {min_n} responses, shown in grey, not ranked"),
        "alt.heatmap": _(
            "Heatmap: share satisfied of {rows} agencies by {columns} criteria, from {low} to {high}; "
            "hatched cell: too few answers."
        ),
        "alt.heatmap_few": _(
            "Heatmap: {rows} agencies by {columns} criteria, no cell with enough answers to show; "
            "hatched cell: too few answers."
        ),
        "alt.priorities": _("Bar chart: {count} improvement priorities, chosen most: {best}."),
        "alt.elements": _("Bar chart: share satisfied of {count} elements, highest {best}, lowest {worst}."),
        "alt.criteria": _("Bar chart: share satisfied of {count} criteria, highest {best}, lowest {worst}."),
        **pack_words(),
    }


def pack_words() -> dict[str, str]:
    """The report pack's words (its PDF pages and workbook sheets) in the user's language."""
    return {
        # Translators: the language code of the report pack's questionnaire titles.
        "language": _("en"),
        # Translators: the strftime pattern of a day in the report pack; Vietnamese writes %d/%m/%Y.
        "date": _("%Y-%m-%d"),
        "pack.title": _("Counter survey results report"),
        "pack.pdf_title": _("{title} — {agency}, {month}"),
        "pack.page": _("Page {number}/{total}"),
        "pack.interval": _("95% CI"),
        "pack.sheet.trend": _("Trend"),
        "pack.sheet.volume": _("Responses"),
        "pack.sheet.summary": _("Agencies summary"),
        "pack.summary": _("Summary by agency"),
        "pack.detail": _("Detailed results — {name}"),
        "pack.criteria_list": _("List of elements, criteria and improvement priorities"),
        "pack.method": _("Method notes"),
        "pack.month": _("{month}"),
        "pack.questionnaire": _("Questionnaire: {name}"),
        "pack.generated": _("Report date: {date}"),
        "pack.disclaimer": _(
            "Note: these are results of the counter survey — citizens answer voluntarily by QR code at the "
            "one-stop office, not a random sample. They are not the official index of satisfaction with public "
            "administrative services (SIPAS) and do not replace it."
        ),
        "pack.status_legend": _(
            "Met: the lower bound of the 95% confidence interval is not below the target. Not met: the upper "
            "bound is below the target. Not yet conclusive: the target lies inside the confidence interval. "
            "Too few answers: fewer than {min_n} responses."
        ),
        "pack.headline": _("Overall results — {agency}, {month}"),
        "pack.overall": _("Overall satisfaction index (counter survey)"),
        "pack.interval_line": _("95% confidence interval: {low} – {high}"),
        "pack.responses_line": _("Responses: {n}"),
        "pack.change_line": _("Compared with the previous month: {change} points"),
        "pack.no_change": _("No figures for the previous month yet"),
        "pack.rate_line": _("Response rate (single-use links): {rate}"),
        "pack.by_element": _("By element"),
        "pack.element_figures": _("{pct}   (95% CI: {low} – {high})"),
        "pack.formula.criterion": _(
            "• Criterion: S = 100 × answers in the satisfied group of the scale (4–5 on the 5-point scale) / "
            "answers on the scale; “No opinion” is not counted."
        ),
        "pack.formula.element": _(
            "• Element: the mean share of the criteria with at least one answer. Overall index: the mean of the "
            "elements. Responses (n) of an element and of the overall index: responses with at least one "
            "criterion answered."
        ),
        "pack.formula.priority": _(
            "• Improvement priorities: the share of answers “Much” or “Very much”, from highest to lowest."
        ),
        "pack.interval.wilson": _("• Criteria and improvement priorities: the Wilson interval of the share."),
        "pack.interval.design": _(
            "• Elements and overall index: each respondent has a score y = the share of the criteria they "
            "answered that were rated satisfied; standard error se = sample standard deviation of y / √n; "
            "effective sample size n_eff = p(1 − p) / se² (n when se = 0 or p is 0 or 1), kept between 1 and "
            "the number of answers; the Wilson interval is taken at n_eff. This is a design-effect "
            "adjustment in the spirit of Korn & Graubard (1998), since one person's answers tend to be alike."
        ),
        "pack.target_item": _("• ≥ {value}: {description} (source: {source})"),
        "pack.period": _("Report period: {month}, Vietnam time."),
        "pack.grey": _("Agencies with fewer than {min_n} responses are shown in grey and not ranked."),
        "pack.questionnaire_item": _("• Questionnaire {name}"),
        "pack.section.source": _("Source of the figures"),
        "pack.section.formulas": _("Formulas"),
        "pack.section.intervals": _("95% confidence intervals"),
        "pack.section.statuses": _("Comparison with the targets"),
        "pack.section.targets": _("Targets and the documents they come from"),
        "pack.no_targets": _("No target applies to this period."),
        "col.level": _("Level"),
        "col.share": _("Share (%)"),
        "col.overall_pct": _("Overall index (%)"),
        "col.change": _("Change (points)"),
        "level.overall": _("Overall"),
        "level.element": _("Element"),
        "level.criterion": _("Criterion"),
        "level.priority": _("Priority"),
        "notes.sheet": _("Notes"),
        "notes.title": _("Counter survey results — not the official SIPAS index"),
        "notes.disclaimer": _(
            "These are results of the counter survey (citizens answer voluntarily at the one-stop office), "
            "not the official index of satisfaction with public administrative services (SIPAS)."
        ),
        "notes.period_key": _("Report period"),
        "notes.period": _("{period} (Vietnam time)"),
        "notes.as_of_key": _("Figures"),
        "notes.questionnaires_key": _("Questionnaires"),
        "notes.version": _("{qid}, version {label}"),
        "notes.method_key": _("Method"),
        "notes.method.criterion": _(
            "Criteria and improvement priorities: the share of answers in the “satisfied” group of the scale "
            "(4–5 on the 5-point scale; “Much”, “Very much” for priorities) among valid answers, “No opinion” "
            "not counted; Wilson 95% confidence interval."
        ),
        "notes.method.element": _(
            "Elements: the mean share of their criteria; overall index: the mean of the elements; Wilson 95% "
            "confidence interval at the effective sample size derived from the standard error of each "
            "respondent's score."
        ),
        "notes.targets_key": _("Targets"),
        "notes.target": _("≥ {value:g}%: {description} (source: {source})"),
        "notes.status_key": _("Status"),
        "notes.status": _(
            "met: the lower bound of the confidence interval ≥ the target; not_met: the upper bound < the "
            "target; inconclusive: not yet conclusive; insufficient: fewer than {min_n} answers."
        ),
    }


def current():
    """The analysis Wording of the user's language."""
    from analysis.wording import Wording

    return Wording(words(), number=number, percent=percent, month=month)


def target(code: str) -> str:
    """A target named by its status column's code: 86 → 86 % (the code itself when not a number)."""
    try:
        value = float(code)
    except ValueError:
        return code
    return percent(value, 0 if value.is_integer() else 1)


def missing(value) -> bool:
    """Whether a figure is missing (None or NaN)."""
    return value is None or value != value


def questionnaire_title(qid: str) -> str:
    """A questionnaire's title in the user's language (its id when unknown)."""
    from survey.domain import catalog

    definition = catalog.current().get(qid)
    return definition.title.get(str(get_locale())) if definition else qid
