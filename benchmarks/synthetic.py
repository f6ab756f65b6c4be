"""Synthetic Flask-Migrate projects with N revisions, for the benchmark and the tests (which also
write their own revisions with ``REVISION`` and start projects from ``skeleton``).

The history is a realistic mix, repeated per table: create a table (a foreign key to another table,
a unique constraint, an enum and a timestamp with server defaults, three indexes), add a column,
index it with a unique constraint over two columns, widen a column (batch mode, as Flask-Migrate
configures SQLite). Each table ends with four indexes and two unique constraints, as real models
have: what iterates their sets shows. The models match the history, plus one pending change, so
every timed run has exactly one operation to generate.
"""

from pathlib import Path

APP = """\
import os

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
migrate = Migrate(render_as_batch=True, compare_type=True)


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    db.init_app(app)
    migrate.init_app(app, db)
    from . import models  # noqa: F401
    return app
"""

#: A revision file as Flask-Migrate's script.py.mako writes one (the tests write theirs with it too).
REVISION = '''"""{message}

Revision ID: {revision}
Revises: {down_revision}
"""
from alembic import op
import sqlalchemy as sa
{imports}

revision = {revision!r}
down_revision = {down_revision!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''

# Each step: (message, upgrade body, downgrade body) for table t{t}, whose foreign key refers to
# t{p} (``_parent``). As real models have them: an enum with a server default, a timestamp
# defaulting to the server's clock, several indexes and unique constraints.
STEPS = (
    (
        "create t{t}",
        "    op.create_table('t{t}',\n"
        "        sa.Column('id', sa.Integer(), nullable=False),\n"
        "        sa.Column('name', sa.String(length=20), nullable=True),\n"
        "        sa.Column('code', sa.String(length=12), nullable=False),\n"
        "        sa.Column('status', sa.Enum('draft', 'active', 'archived', name='t{t}_status'),"
        " server_default='draft', nullable=False),\n"
        "        sa.Column('created_at', sa.DateTime(), server_default=sa.text('CURRENT_TIMESTAMP'),"
        " nullable=False),\n"
        "        sa.Column('parent_id', sa.Integer(), nullable=True),\n"
        "        sa.ForeignKeyConstraint(['parent_id'], ['t{p}.id'], name='fk_t{t}_parent_id'),\n"
        "        sa.PrimaryKeyConstraint('id'),\n"
        "        sa.UniqueConstraint('code', name='uq_t{t}_code'))\n"
        "    with op.batch_alter_table('t{t}') as batch_op:\n"
        "        batch_op.create_index('ix_t{t}_created_at', ['created_at'], unique=False)\n"
        "        batch_op.create_index('ix_t{t}_parent_id', ['parent_id'], unique=False)\n"
        "        batch_op.create_index('ix_t{t}_status', ['status'], unique=False)",
        "    op.drop_table('t{t}')\n    sa.Enum(name='t{t}_status').drop(op.get_bind(), checkfirst=True)",
    ),
    (
        "add t{t}.score",
        "    with op.batch_alter_table('t{t}') as batch_op:\n"
        "        batch_op.add_column(sa.Column('score', sa.Integer(), nullable=True))",
        "    with op.batch_alter_table('t{t}') as batch_op:\n        batch_op.drop_column('score')",
    ),
    (
        "index t{t}.score",
        "    with op.batch_alter_table('t{t}') as batch_op:\n"
        "        batch_op.create_index('ix_t{t}_score', ['score'], unique=False)\n"
        "        batch_op.create_unique_constraint('uq_t{t}_name_score', ['name', 'score'])",
        "    with op.batch_alter_table('t{t}') as batch_op:\n"
        "        batch_op.drop_constraint('uq_t{t}_name_score', type_='unique')\n"
        "        batch_op.drop_index('ix_t{t}_score')",
    ),
    (
        "widen t{t}.name",
        "    with op.batch_alter_table('t{t}') as batch_op:\n"
        "        batch_op.alter_column('name', existing_type=sa.String(length=20),"
        " type_=sa.String(length=40), existing_nullable=True)",
        "    with op.batch_alter_table('t{t}') as batch_op:\n"
        "        batch_op.alter_column('name', existing_type=sa.String(length=40),"
        " type_=sa.String(length=20), existing_nullable=True)",
    ),
)


def _parent(table: int) -> int:
    """The table whose ``id`` a table's foreign key refers to: the first of its ten (t10 for t11 to
    t19), and t0 for those (t0 refers to itself). Not a chain: Alembic's batch mode reflects the
    tables a table refers to, and theirs, recursively."""
    return 0 if table % 10 == 0 else table - table % 10


def _model(table: int, steps_done: int, pending: bool) -> str:
    parent = _parent(table)
    columns = [
        "db.Column('id', db.Integer, primary_key=True)",
        f"db.Column('name', db.String({40 if steps_done >= 4 else 20}))",
        "db.Column('code', db.String(12), nullable=False)",
        f"db.Column('status', db.Enum('draft', 'active', 'archived', name='t{table}_status'),"
        " server_default='draft', nullable=False, index=True)",
        "db.Column('created_at', db.DateTime, server_default=db.text('CURRENT_TIMESTAMP'),"
        " nullable=False, index=True)",
        f"db.Column('parent_id', db.Integer, db.ForeignKey('t{parent}.id', name='fk_t{table}_parent_id'),"
        " index=True)",
        f"db.UniqueConstraint('code', name='uq_t{table}_code')",
    ]
    if steps_done >= 2:
        columns.append(f"db.Column('score', db.Integer, index={steps_done >= 3})")
    if steps_done >= 3:
        columns.append(f"db.UniqueConstraint('name', 'score', name='uq_t{table}_name_score')")
    if pending:
        columns.append("db.Column('pending', db.Integer)")
    body = ",\n    ".join(columns)
    return f"t{table} = db.Table(\n    't{table}',\n    {body},\n)\n"


def skeleton(root: Path, migrations_template: Path) -> Path:
    """Write the app package (``APP``, no models yet) and an empty migrations directory under ``root``,
    whose env.py, alembic.ini and script.py.mako are ``migrations_template``'s; return its versions
    folder."""
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text(APP)
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    for name in ("env.py", "alembic.ini", "script.py.mako"):
        (root / "migrations" / name).write_text((migrations_template / name).read_text())
    return versions


def build(root: Path, revisions: int, migrations_template: Path) -> Path:
    """Write an app package and a migrations directory with ``revisions`` revisions under ``root``.

    ``migrations_template`` is an existing Flask-Migrate directory whose env.py, alembic.ini and
    script.py.mako are reused, so the synthetic project runs the same env.py as a real one.
    """
    versions = skeleton(root, migrations_template)
    down = None
    for number in range(revisions):
        table, step = divmod(number, len(STEPS))
        message, upgrade, downgrade = (part.format(t=table, p=_parent(table)) for part in STEPS[step])
        rev = f"{number:04d}{'0' * 8}"
        (versions / f"{rev}_{message.replace(' ', '_').replace('.', '_')}.py").write_text(
            REVISION.format(
                message=message,
                revision=rev,
                down_revision=down,
                imports="",
                upgrade=upgrade,
                downgrade=downgrade,
            )
        )
        down = rev

    tables = (revisions + len(STEPS) - 1) // len(STEPS)
    models = ["from . import db\n"]
    for table in range(tables):
        steps_done = min(len(STEPS), revisions - table * len(STEPS))
        models.append(_model(table, steps_done, pending=table == tables - 1))
    (root / "app" / "models.py").write_text("\n".join(models))
    return root
