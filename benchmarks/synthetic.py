"""Synthetic Flask-Migrate projects with N revisions, for the benchmark and its smoke test.

The history is a realistic mix, repeated per table: create a table, add a column, index it, widen a
column (batch mode, as Flask-Migrate configures SQLite). The models match the history, plus one
pending change, so every timed run has exactly one operation to generate.
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

REVISION = '''\
"""{message}

Revision ID: {rev}
Revises: {down}
"""
import sqlalchemy as sa
from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''

# Each step: (message, upgrade body, downgrade body) for table t{t}.
STEPS = (
    (
        "create t{t}",
        "    op.create_table('t{t}', sa.Column('id', sa.Integer(), primary_key=True),\n"
        "                    sa.Column('name', sa.String(length=20), nullable=True))",
        "    op.drop_table('t{t}')",
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
        "        batch_op.create_index('ix_t{t}_score', ['score'], unique=False)",
        "    with op.batch_alter_table('t{t}') as batch_op:\n        batch_op.drop_index('ix_t{t}_score')",
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


def _model(table: int, steps_done: int, pending: bool) -> str:
    columns = ["db.Column('id', db.Integer, primary_key=True)"]
    columns.append(f"db.Column('name', db.String({40 if steps_done >= 4 else 20}))")
    if steps_done >= 2:
        columns.append(f"db.Column('score', db.Integer, index={steps_done >= 3})")
    if pending:
        columns.append("db.Column('pending', db.Integer)")
    body = ",\n    ".join(columns)
    return f"t{table} = db.Table(\n    't{table}',\n    {body},\n)\n"


def build(root: Path, revisions: int, migrations_template: Path) -> Path:
    """Write an app package and a migrations directory with ``revisions`` revisions under ``root``.

    ``migrations_template`` is an existing Flask-Migrate directory whose env.py, alembic.ini and
    script.py.mako are reused, so the synthetic project runs the same env.py as a real one.
    """
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text(APP)
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    for name in ("env.py", "alembic.ini", "script.py.mako"):
        (root / "migrations" / name).write_text((migrations_template / name).read_text())

    down = None
    for number in range(revisions):
        table, step = divmod(number, len(STEPS))
        message, upgrade, downgrade = (part.format(t=table) for part in STEPS[step])
        rev = f"{number:04d}{'0' * 8}"
        (versions / f"{rev}_{message.replace(' ', '_').replace('.', '_')}.py").write_text(
            REVISION.format(message=message, rev=rev, down=down, upgrade=upgrade, downgrade=downgrade)
        )
        down = rev

    tables = (revisions + len(STEPS) - 1) // len(STEPS)
    models = ["from . import db\n"]
    for table in range(tables):
        steps_done = min(len(STEPS), revisions - table * len(STEPS))
        models.append(_model(table, steps_done, pending=table == tables - 1))
    (root / "app" / "models.py").write_text("\n".join(models))
    return root
