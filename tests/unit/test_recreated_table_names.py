"""The names in the tables the downgrade creates back render the same whichever way Alembic's
reflection reached the table (the order of the operations: tests/cli/test_ordering.py, in processes)."""

import sqlalchemy as sa
from alembic.autogenerate import render_python_code
from alembic.operations import ops
from sqlalchemy.schema import conv

from flask_makemigrations.compat import ALEMBIC_MARKS_REFLECTED_NAMES
from flask_makemigrations.revisions import ordering


def referring_table(name: str, fk_name: str) -> sa.Table:
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ref_id", sa.Integer, sa.ForeignKey("parent.id", name=fk_name)),
        sa.UniqueConstraint("ref_id", name=f"uq_{name}_ref"),
    )


def test_a_dropped_tables_names_render_as_those_of_the_tables_alembic_reflects_itself() -> None:
    """One table as Alembic reflects it (its names marked, from 1.16 on), one as the reflection of
    another pulls it in with SQLAlchemy 1.4 (not marked): the downgrade creates both back alike."""
    reflected, pulled_in = (
        referring_table("gone_a", "fk_gone_a_ref"),
        referring_table("gone_b", "fk_gone_b_ref"),
    )
    if ALEMBIC_MARKS_REFLECTED_NAMES:
        for constraint in reflected.constraints:
            constraint.name = conv(constraint.name) if isinstance(constraint.name, str) else constraint.name
    upgrade = ops.UpgradeOps([ops.DropTableOp.from_table(reflected), ops.DropTableOp.from_table(pulled_in)])
    downgrade = upgrade.reverse()

    ordering.put_in_stable_order(upgrade, downgrade)

    rendered = render_python_code(downgrade)
    for table in ("gone_a", "gone_b"):
        for name in (f"fk_{table}_ref", f"uq_{table}_ref"):
            assert (f"op.f('{name}')" in rendered) is ALEMBIC_MARKS_REFLECTED_NAMES, rendered
            assert f"'{name}'" in rendered, rendered


def test_the_names_in_a_table_the_upgrade_creates_are_the_models_as_written() -> None:
    """A table from the models is not reflected: its names stay as the models give them."""
    created = referring_table("fresh", "fk_fresh_ref")
    upgrade = ops.UpgradeOps([ops.CreateTableOp.from_table(created)])
    downgrade = upgrade.reverse()

    ordering.put_in_stable_order(upgrade, downgrade)

    rendered = render_python_code(upgrade)
    assert "name='fk_fresh_ref'" in rendered and "name='uq_fresh_ref'" in rendered, rendered
    assert "op.f(" not in rendered, rendered
