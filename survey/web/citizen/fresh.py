"""A counter's fresh page, rendered once and then only filled in.

The page a counter's QR code opens, before anything is answered, is the same for every citizen but
for two values: the CSRF token and the submission key. Rendering its 28-field form costs most of a
citizen's request (bench/submit.py: 13.7 ms of server CPU per submission without this, 5.8 ms with
it, on the same machine and run), so each worker renders it once per questionnaire version, locale,
address and names, with two slots, and fills the slots in for each citizen. The slots are random per
process, so no name an administrator types can contain them. A worker keeps at most LIMIT pages
(about 20 KB each) and starts over when full; a renamed counter or a new questionnaire version has a
new key, so nothing stale is served, and nothing here needs sharing between workers.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable

from flask_wtf.csrf import generate_csrf

from survey.domain.responses import new_submission_key

LIMIT = 2048


class FreshPages:
    """The worker's fresh pages, by key; each entry remembers the definition object it was rendered from."""

    def __init__(self, limit: int = LIMIT):
        self.csrf_slot, self.key_slot = f"csrf{secrets.token_hex(16)}", f"key{secrets.token_hex(16)}"
        self.limit = limit
        self._pages: dict[Hashable, tuple[object, str]] = {}

    def page(self, key: Hashable, definition: object, render: Callable[[str, str], str]) -> str:
        """The page for this citizen; render(csrf_slot, key_slot) draws it with slots when it is not kept."""
        kept = self._pages.get(key)
        if kept is None or kept[0] is not definition:  # a reloaded catalog gives new definition objects
            if len(self._pages) >= self.limit:
                self._pages.clear()
            kept = self._pages[key] = (definition, render(self.csrf_slot, self.key_slot))
        page = kept[1].replace(self.key_slot, new_submission_key(), 1)
        if self.csrf_slot in page:  # absent when CSRF is off (tests)
            page = page.replace(self.csrf_slot, generate_csrf(), 1)
        return page
