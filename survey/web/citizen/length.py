"""How long a questionnaire takes to answer, told to the citizen before they start.

The estimate reads every word the citizen has to read (titles, statements, the labels of each scale
once) at WORDS_PER_MINUTE and adds SECONDS_PER_ANSWER for choosing and tapping each answer. The
optional comment is not counted. 150 words a minute (for Vietnamese: syllables, the unit its reading
rates use) is well under the 238 words a minute of adults reading non-fiction silently (Brysbaert,
2019, a meta-analysis of 190 studies), to allow for a small phone screen, sunlight and older eyes;
four seconds an answer is ours. The README says how the figure compares with the page.
"""

from __future__ import annotations

import math

from questionnaires import Definition

WORDS_PER_MINUTE = 150
SECONDS_PER_ANSWER = 4


def _words(text: str) -> int:
    return len(text.split())


def questions(definition: Definition) -> int:
    """The questions a citizen is asked, the comment left out."""
    return len(definition.items)


def parts(definition: Definition) -> int:
    """The numbered parts of the page: one per element, then the priorities, then the background."""
    return len(definition.elements) + bool(definition.priorities) + bool(definition.background)


def minutes(definition: Definition, locale: str) -> int:
    """The minutes a citizen needs to read and answer every question, rounded up."""
    texts = [definition.title.get(locale)]
    texts += [e.title.get(locale) for e in definition.elements]
    if definition.priorities_title:
        texts.append(definition.priorities_title.get(locale))
    texts += [item.text.get(locale) for item in definition.items]
    scales = {id(item.scale): item.scale for item in definition.items}
    texts += [o.label.get(locale) for scale in scales.values() for o in scale.options]
    seconds = sum(map(_words, texts)) * 60 / WORDS_PER_MINUTE + questions(definition) * SECONDS_PER_ANSWER
    return max(1, math.ceil(seconds / 60))
