"""The agency hierarchy: the subtree rule, written once, as one recursive query.

An agency's subtree is the agency and every agency below it. A user, an API key or a report scoped
to an agency sees exactly its subtree; scoped to none (None), everything.
"""

from __future__ import annotations

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session, aliased

from survey.models import Agency


def subtree(root_id: int) -> Select:
    """SELECT the ids of root and every agency below it (UNION, not UNION ALL: a cycle ends the walk)."""
    tree = select(Agency.id.label("id")).where(Agency.id == root_id).cte("subtree", recursive=True)
    child = aliased(Agency)
    tree = tree.union(select(child.id).where(child.parent_id == tree.c.id))
    return select(tree.c.id)


def subtree_codes(session: Session, root_id: int) -> set[str]:
    """The codes of root's subtree."""
    return set(session.scalars(select(Agency.code).where(Agency.id.in_(subtree(root_id)))))


def visible_codes(session: Session, root_id: int | None) -> set[str] | None:
    """The codes of the agencies someone scoped to root may see: None means every agency."""
    return None if root_id is None else subtree_codes(session, root_id)


def contains(session: Session, root_id: int | None, agency_id: int) -> bool:
    """Whether an agency lies in root's subtree (root None: every agency does)."""
    if root_id is None:
        return True
    return bool(session.scalar(select(exists().where(subtree(root_id).subquery().c.id == agency_id))))


def named(session: Session, code: str | None) -> Agency | None:
    """The agency of a code given by a person (None for none); ValueError with a reason when there is none."""
    if not code:
        return None
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise ValueError(f"no agency with code {code!r}")
    return agency
