"""The codes the figures give their own blocks and rows, beside the agencies', services' and elements' codes.

Light on purpose (no pandas): the reference data's validation reads them at start-up.
"""

from __future__ import annotations

ALL = "ALL"  # every agency (the block above the roots), and every service
NO_SERVICE = "NONE"  # the responses that named no service
OVERALL = "OVERALL"  # the overall index, in the column that otherwise holds element codes
