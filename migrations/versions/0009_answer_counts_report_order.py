"""Answer counts keyed in the order a report groups them (summed over services); SQLite: without rowid.

A month's report sums the counts over services per agency, item and value. Keyed (period, version,
agency, item, value, service) and, on SQLite, stored in that key's order (WITHOUT ROWID), the sums
stream out of the key: no sort of every rollup row, no second index, no lookup per row. Adding to a
count (every response) costs the same as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = ['period', 'agency_id', 'service_id', 'questionnaire_version_id', 'item_code', 'value', 'count']
OLD_KEY = ['period', 'agency_id', 'service_id', 'questionnaire_version_id', 'item_code', 'value']
NEW_KEY = ['period', 'questionnaire_version_id', 'agency_id', 'item_code', 'value', 'service_id']


def _rebuild(key: list[str], with_rowid: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('pk_answer_counts', 'answer_counts', type_='primary')
        op.create_primary_key('pk_answer_counts', 'answer_counts', key)
        return
    op.rename_table('answer_counts', 'answer_counts_old')
    op.create_table('answer_counts',
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint(*key, name='pk_answer_counts'),
    sqlite_with_rowid=with_rowid,
    )
    columns = ', '.join(COLUMNS)
    op.execute(f'INSERT INTO answer_counts ({columns}) SELECT {columns} FROM answer_counts_old')
    op.drop_table('answer_counts_old')


def upgrade() -> None:
    _rebuild(NEW_KEY, with_rowid=False)


def downgrade() -> None:
    _rebuild(OLD_KEY, with_rowid=True)
