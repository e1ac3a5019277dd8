"""Anonymous responses: no link from an answer to its interaction, tokens kept as hashes, times to the hour.

- responses.interaction_id goes (with its unique constraint and foreign key): one response per
  interaction is now kept by marking the interaction used in the response's transaction;
- interactions.token becomes token_hash, the SHA-256 of the token (links already handed out keep
  working: they are looked up by the hash of what they carry);
- responses.submitted_at and interactions.used_at are cut to the hour. Stored in UTC, cut in UTC:
  the same as the local hour wherever the zone's offset is a whole number of hours (Vietnam: +7).

Downgrade brings the columns back, empty: what was removed cannot be recovered (links issued before
cannot be rebuilt from their hashes, and are void after a downgrade).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BATCH = 5000


def _hash_tokens() -> None:
    """Fill token_hash from the tokens, a batch at a time."""
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.text("SELECT id, token FROM interactions WHERE id > :last ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}
        ).all()
        if not rows:
            return
        conn.execute(
            sa.text("UPDATE interactions SET token_hash = :h WHERE id = :id"),
            [{"id": i, "h": hashlib.sha256(t.encode()).hexdigest()} for i, t in rows],
        )
        last = rows[-1][0]


def _to_the_hour(table: str, column: str) -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        cut = f"date_trunc('hour', {column})"
    else:  # SQLAlchemy's SQLite DateTime text: 'YYYY-MM-DD HH:MM:SS.ffffff'
        cut = f"strftime('%Y-%m-%d %H:00:00.000000', {column})"
    op.execute(f"UPDATE {table} SET {column} = {cut} WHERE {column} IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
    _hash_tokens()
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_interactions_token'), type_='unique')
        batch_op.drop_column('token')
        batch_op.alter_column('token_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_interactions_token_hash'), ['token_hash'])
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_responses_interaction_id_interactions'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_responses_interaction_id'), type_='unique')
        batch_op.drop_column('interaction_id')
    _to_the_hour('responses', 'submitted_at')
    _to_the_hour('interactions', 'used_at')


def downgrade() -> None:
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interaction_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_responses_interaction_id'), ['interaction_id'])
        batch_op.create_foreign_key(
            batch_op.f('fk_responses_interaction_id_interactions'), 'interactions', ['interaction_id'], ['id']
        )
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_interactions_token_hash'), type_='unique')
        batch_op.alter_column('token_hash', new_column_name='token', existing_type=sa.String(length=64))
        batch_op.create_unique_constraint(batch_op.f('uq_interactions_token'), ['token'])
