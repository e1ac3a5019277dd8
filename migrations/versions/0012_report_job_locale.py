"""Report jobs: the language of the pack, so that a pack follows the language of the official who asked.

Jobs made before this revision were Vietnamese packs: the column defaults to 'vi'.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('report_jobs') as batch:
        batch.add_column(sa.Column('locale', sa.String(length=8), server_default='vi', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('report_jobs') as batch:
        batch.drop_column('locale')
