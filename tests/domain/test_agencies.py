"""The subtree rule: an agency and every agency below it, one recursive query."""

from __future__ import annotations

from sqlalchemy import select

from survey import db
from survey.domain import agencies
from survey.models import Agency


def test_the_subtree_rule_follows_the_hierarchy_and_ends_on_a_cycle(app, counter):
    with app.app_context():
        s = db.session()
        city = s.scalar(select(Agency).where(Agency.code == "HN"))
        ward = s.scalar(select(Agency).where(Agency.code == "P-HK"))
        unit = Agency(code="T-1", name="Tổ 1", level="to", parent=ward)
        s.add(unit)
        s.flush()
        assert agencies.subtree_codes(s, city.id) == {"HN", "P-HK", "T-1"}
        assert agencies.subtree_codes(s, ward.id) == {"P-HK", "T-1"}
        assert agencies.visible_codes(s, None) is None
        assert agencies.contains(s, city.id, unit.id) and not agencies.contains(s, unit.id, city.id)
        city.parent_id = unit.id  # a cycle (the reference import refuses one; the query must still end)
        s.flush()
        assert agencies.subtree_codes(s, ward.id) == {"HN", "P-HK", "T-1"}
        s.rollback()
