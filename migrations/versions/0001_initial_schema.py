"""Initial schema, and the two targets of the Hà Nội plans.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=32), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('questionnaire', sa.String(length=32), nullable=True),
    sa.Column('questionnaire_version', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['agencies.id'], name=op.f('fk_agencies_parent_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('code', name=op.f('uq_agencies_code'))
    )
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agencies_parent_id'), ['parent_id'], unique=False)

    op.create_table('questionnaire_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('registered_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_versions')),
    sa.UniqueConstraint('questionnaire', 'version', name=op.f('uq_questionnaire_versions_questionnaire'))
    )
    op.create_table('services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.Column('processing_days', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services')),
    sa.UniqueConstraint('code', name=op.f('uq_services_code'))
    )
    op.create_table('targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('value > 0 AND value <= 100', name=op.f('ck_targets_value_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_targets')),
    sa.UniqueConstraint('code', name=op.f('uq_targets_code'))
    )
    op.create_table('counters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('questionnaire', sa.String(length=32), nullable=True),
    sa.Column('questionnaire_version', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_counters_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counters')),
    sa.UniqueConstraint('code', name=op.f('uq_counters_code'))
    )
    with op.batch_alter_table('counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_counters_agency_id'), ['agency_id'], unique=False)

    op.create_table('interactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('dossier_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_interactions_agency_id_agencies')),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_interactions_counter_id_counters')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_interactions_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interactions')),
    sa.UniqueConstraint('dossier_hash', name=op.f('uq_interactions_dossier_hash')),
    sa.UniqueConstraint('token', name=op.f('uq_interactions_token'))
    )
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interactions_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interactions_counter_id'), ['counter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interactions_created_at'), ['created_at'], unique=False)

    op.create_table('responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('interaction_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('submission_key', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_responses_agency_id_agencies')),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_responses_counter_id_counters')),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'], name=op.f('fk_responses_interaction_id_interactions')),
    sa.ForeignKeyConstraint(['questionnaire_version_id'], ['questionnaire_versions.id'], name=op.f('fk_responses_questionnaire_version_id_questionnaire_versions')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_responses_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responses')),
    sa.UniqueConstraint('interaction_id', name=op.f('uq_responses_interaction_id')),
    sa.UniqueConstraint('submission_key', name=op.f('uq_responses_submission_key'))
    )
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_responses_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_responses_submitted_at_agency', ['submitted_at', 'agency_id'], unique=False)

    op.create_table('answers',
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_answers_response_id_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'item_code', name=op.f('pk_answers'))
    )

    targets = sa.table(
        "targets",
        sa.column("code", sa.String), sa.column("value", sa.Float), sa.column("metric", sa.String),
        sa.column("description", sa.Text), sa.column("period_start", sa.Date),
        sa.column("period_end", sa.Date), sa.column("source", sa.Text), sa.column("active", sa.Boolean),
    )
    op.bulk_insert(targets, [
        {"code": "86", "value": 86.0, "metric": "overall", "period_start": date(2022, 1, 1), "period_end": None,
         "active": True,
         "description": "Chỉ số hài lòng về sự phục vụ hành chính (SIPAS) của Hà Nội đạt tối thiểu 86 %",
         "source": "Quyết định 399/QĐ-UBND (2022) và Kế hoạch cải cách hành chính năm 2026 của UBND Thành phố Hà Nội"},
        {"code": "90", "value": 90.0, "metric": "overall", "period_start": date(2021, 1, 1), "period_end": None,
         "active": True,
         "description": "Mức độ hài lòng của người dân, doanh nghiệp về giải quyết thủ tục hành chính đạt tối thiểu 90 %",
         "source": "Kế hoạch 190/KH-UBND (2019), giai đoạn 2021–2025; Kế hoạch cải cách hành chính năm 2026 của UBND Thành phố Hà Nội"},
    ])


def downgrade() -> None:
    op.drop_table('answers')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_submitted_at_agency')
        batch_op.drop_index(batch_op.f('ix_responses_agency_id'))

    op.drop_table('responses')
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interactions_created_at'))
        batch_op.drop_index(batch_op.f('ix_interactions_counter_id'))
        batch_op.drop_index(batch_op.f('ix_interactions_agency_id'))

    op.drop_table('interactions')
    with op.batch_alter_table('counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_counters_agency_id'))

    op.drop_table('counters')
    op.drop_table('targets')
    op.drop_table('services')
    op.drop_table('questionnaire_versions')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agencies_parent_id'))

    op.drop_table('agencies')
