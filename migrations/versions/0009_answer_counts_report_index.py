"""An index on the answer counts in the order a report groups them (summed over services).

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-04
"""

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('answer_counts', schema=None) as batch_op:
        batch_op.create_index(
            'ix_answer_counts_report',
            ['period', 'questionnaire_version_id', 'agency_id', 'item_code', 'value'],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table('answer_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_counts_report')
