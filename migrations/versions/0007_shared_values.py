"""Shared values: the month's figures snapshot, rendered charts and locks, read alike by every worker.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shared_values',
    sa.Column('key', sa.String(length=250), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_shared_values'))
    )
    with op.batch_alter_table('shared_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_values_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('shared_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shared_values_expires_at'))
    op.drop_table('shared_values')
