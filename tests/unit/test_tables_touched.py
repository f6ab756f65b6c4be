"""The tables a revision's upgrade changes, read from its source alone (``--against``'s conflicts)."""

import pytest

from flask_makemigrations.checks.tables_touched import tables_touched

pytestmark = pytest.mark.version_independent  # the standard library's ast on this package's code

HEADER = "from alembic import op\nimport sqlalchemy as sa\n\n\n"


def revision(upgrade: str, downgrade: str = "    op.drop_table('ignored')") -> str:
    return f"{HEADER}def upgrade():\n{upgrade}\n\n\ndef downgrade():\n{downgrade}\n"


@pytest.mark.parametrize(
    ("upgrade", "tables"),
    [
        ("    op.create_table('user', sa.Column('id', sa.Integer()))", {"user"}),
        ("    op.drop_table('user')", {"user"}),
        ("    op.add_column('user', sa.Column('email', sa.String()))", {"user"}),
        ("    op.drop_column('user', 'email')", {"user"}),
        ("    op.alter_column('user', 'email', nullable=False)", {"user"}),
        ("    op.alter_column(table_name='user', column_name='email')", {"user"}),
        ("    op.create_index('ix_post_title', 'post', ['title'])", {"post"}),
        ("    op.create_index(op.f('ix_post_title'), 'post', ['title'])", {"post"}),
        ("    op.drop_index('ix_post_title', table_name='post')", {"post"}),
        ("    op.create_unique_constraint('uq', 'post', ['title'])", {"post"}),
        ("    op.create_check_constraint('ck', 'post', 'length(title) > 0')", {"post"}),
        ("    op.create_primary_key('pk', 'post', ['id'])", {"post"}),
        ("    op.drop_constraint('uq', 'post', type_='unique')", {"post"}),
        # a foreign key changes its source table, not the table it refers to
        ("    op.create_foreign_key('fk', 'post', 'user', ['author_id'], ['id'])", {"post"}),
        ("    op.rename_table('post', 'article')", {"post", "article"}),
        ("    op.create_table_comment('post', 'posts')", {"post"}),
        ("    op.bulk_insert(sa.table('user', sa.column('id')), [{'id': 1}])", {"user"}),
        ("    op.create_table('note', schema='app')", {"app.note"}),
        (
            "    with op.batch_alter_table('post', schema=None) as batch_op:\n"
            "        batch_op.create_index(batch_op.f('ix_post_x'), ['x'], unique=False)\n"
            "        batch_op.add_column(sa.Column('x', sa.Integer()))",
            {"post"},
        ),
        # what cannot be read statically is skipped
        ("    op.execute('UPDATE user SET name = 1')", set()),
        ("    table = 'user'\n    op.add_column(table, sa.Column('x', sa.Integer()))", set()),
        ("    pass", set()),
    ],
)
def test_each_operation_names_the_table_it_changes(upgrade: str, tables: set[str]) -> None:
    assert {touched.table for touched in tables_touched(revision(upgrade))} == tables


def test_only_the_upgrade_counts_and_a_multidatabase_revision_names_each_bind() -> None:
    source = (
        f"{HEADER}def upgrade(engine_name):\n    globals()['upgrade_%s' % engine_name]()\n\n\n"
        "def upgrade_():\n    op.add_column('user', sa.Column('x', sa.Integer()))\n\n\n"
        "def upgrade_audit():\n    op.add_column('entry', sa.Column('x', sa.Integer()))\n\n\n"
        "def downgrade_audit():\n    op.drop_table('other')\n"
    )

    touched = tables_touched(source)

    assert sorted((t.bind, t.table) for t in touched) == [("", "user"), ("audit", "entry")]
    assert [str(t) for t in sorted(touched)] == ["user", "audit: entry"]


def test_op_under_another_name_is_read_and_a_file_that_does_not_parse_names_nothing() -> None:
    aliased = "from alembic import op as migrate\n\n\ndef upgrade():\n    migrate.drop_table('user')\n"
    assert {t.table for t in tables_touched(aliased)} == {"user"}
    assert tables_touched("def upgrade(:\n") == set()
