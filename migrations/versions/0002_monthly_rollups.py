"""Monthly rollups of answers and respondent scores, so that reports read counts.

init-db fills them from existing responses (flask rollup rebuild does it on demand).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('answer_counts',
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('period', 'agency_id', 'service_id', 'questionnaire_version_id', 'item_code', 'value', name=op.f('pk_answer_counts'))
    )
    op.create_table('score_sums',
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('sum_y', sa.Float(), nullable=False),
    sa.Column('sum_y2', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('period', 'agency_id', 'service_id', 'questionnaire_version_id', 'scope', name=op.f('pk_score_sums'))
    )


def downgrade() -> None:
    op.drop_table('score_sums')
    op.drop_table('answer_counts')
