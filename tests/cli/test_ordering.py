"""The same models and history give the same output in every process, whatever its hash seed.

Alembic's comparison iterates sets of names (dropped tables and columns, foreign keys), whose order
changes with ``PYTHONHASHSEED``: only separate processes show it, so these tests start them. Which
sets Alembic iterates differs between its versions: every session of the matrix runs them.
"""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ProjectCopy, project_at, synthetic_skeleton
from pg_cluster import Cluster

#: The history: a table the models keep and change, four tables they drop (gone_c and gone_d refer
#: to gone_b or gone_a, gone_b to gone_a), each with indexes.
HISTORY = '''\
"""the first tables

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("parent", sa.Column("id", sa.Integer(), primary_key=True))
    op.create_table(
        "keep",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("a", sa.Integer()),
        sa.Column("b", sa.Integer()),
        sa.Column("p1_id", sa.Integer()),
        sa.Column("p2_id", sa.Integer()),
        sa.Column("p3_id", sa.Integer()),
        sa.Column("old1", sa.Integer()),
        sa.Column("old2", sa.Integer()),
        sa.Column("old3", sa.Integer()),
        sa.Column("old4", sa.Integer()),
    )
    op.create_table("gone_a", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("x", sa.Integer()))
    op.create_index("ix_gone_a_x", "gone_a", ["x"])
    for name, referred in (("gone_b", "gone_a"), ("gone_c", "gone_b"), ("gone_d", "gone_a")):
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("ref_id", sa.Integer(), sa.ForeignKey(f"{referred}.id", name=f"fk_{name}_ref")),
            sa.Column("x", sa.Integer()),
            sa.Column("y", sa.Integer()),
        )
        op.create_index(f"ix_{name}_x", name, ["x"])
        op.create_index(f"ix_{name}_y", name, ["y"])


def downgrade():
    pass
'''

#: The models: ``keep`` loses four columns and gains three foreign keys, three indexes and two
#: unique constraints; two new tables; the gone_* tables dropped.
MODELS = """\
from . import db

parent = db.Table("parent", db.Column("id", db.Integer, primary_key=True))
keep = db.Table(
    "keep",
    db.Column("id", db.Integer, primary_key=True),
    db.Column("a", db.Integer, index=True),
    db.Column("b", db.Integer, index=True),
    db.Column("p1_id", db.Integer, db.ForeignKey("parent.id", name="fk_keep_p1"), index=True),
    db.Column("p2_id", db.Integer, db.ForeignKey("parent.id", name="fk_keep_p2")),
    db.Column("p3_id", db.Integer, db.ForeignKey("fresh_a.id", name="fk_keep_p3")),
    db.UniqueConstraint("a", "b", name="uq_keep_a_b"),
    db.UniqueConstraint("b", "p1_id", name="uq_keep_b_p1"),
)
fresh_a = db.Table(
    "fresh_a",
    db.Column("id", db.Integer, primary_key=True),
    db.Column("x", db.Integer, index=True),
    db.Column("y", db.Integer, index=True),
    db.Column("z", db.Integer, unique=True),
)
fresh_b = db.Table(
    "fresh_b",
    db.Column("id", db.Integer, primary_key=True),
    db.Column("a_id", db.Integer, db.ForeignKey("fresh_a.id"), index=True),
    db.Column("parent_id", db.Integer, db.ForeignKey("parent.id"), index=True),
    db.Column("x", db.Integer, index=True),
)
"""

SEEDS = ("1", "2", "3")
CREATE_DATE = re.compile(r"^Create Date: .*$", re.M)


@pytest.fixture
def changing_project(tmp_path: Path) -> Iterator[ProjectCopy]:
    root = tmp_path / "ordered"
    (synthetic_skeleton(root) / "0001_first.py").write_text(HISTORY)
    (root / "app" / "models.py").write_text(MODELS)
    copy = project_at(root, tmp_path)
    yield copy
    assert copy.leftovers() == [], "a run left its shadow database behind"


def outputs(project: ProjectCopy, *options: str) -> list[tuple[str, str, str]]:
    """``makemigrations --check``'s stdout, its JSON and the ``--dry-run`` script (its date aside),
    one triple per hash seed."""
    found = []
    for seed in SEEDS:
        env = {"PYTHONHASHSEED": seed}
        check = project.invoke("makemigrations", "--check", *options, env=env)
        as_json = project.invoke("makemigrations", "--check", "--format", "json", *options, env=env)
        script = project.invoke("makemigrations", "--dry-run", "--rev-id", "fixed", *options, env=env)
        assert (check.returncode, as_json.returncode, script.returncode) == (1, 1, 0), script.stderr
        found.append((check.stdout, as_json.stdout, CREATE_DATE.sub("", script.stdout)))
    return found


def positions(script: str, *fragments: str) -> list[int]:
    return [script.index(fragment) for fragment in fragments]


def test_the_same_models_and_history_give_byte_identical_output_in_every_process(
    changing_project: ProjectCopy,
) -> None:
    found = outputs(changing_project)

    assert all(each == found[0] for each in found[1:]), "the output changed with the hash seed"
    stdout, as_json, script = found[0]
    assert stdout.splitlines() == [line["line"] for line in json.loads(as_json)["operations"]]
    # Dependency order: a table after those it refers to, dropped before them.
    assert positions(script, "create_table('fresh_a'", "create_table('fresh_b'") == sorted(
        positions(script, "create_table('fresh_a'", "create_table('fresh_b'")
    )
    upgrade = script[: script.index("def downgrade")]
    dropped = {
        name: upgrade.index(f"drop_table('{name}')") for name in ("gone_a", "gone_b", "gone_c", "gone_d")
    }
    assert dropped["gone_c"] < dropped["gone_b"] < dropped["gone_a"] and dropped["gone_d"] < dropped["gone_a"]
    # Columns dropped last first: the downgrade adds them back in the table's order.
    downgrade = script[script.index("def downgrade") :]
    assert positions(downgrade, "'old1'", "'old2'", "'old3'", "'old4'") == sorted(
        positions(downgrade, "'old1'", "'old2'", "'old3'", "'old4'")
    )


def test_dropped_tables_are_dropped_before_the_tables_they_refer_to_on_a_server(
    changing_project: ProjectCopy, postgres: Cluster
) -> None:
    """A server refuses to drop a table another one still refers to: the revision verifies there
    (up, down and up again) whatever order the process's sets come out in."""
    for seed in SEEDS:
        run = changing_project.invoke(
            "makemigrations", "--dry-run", "--database", postgres.url_string(), env={"PYTHONHASHSEED": seed}
        )
        assert run.returncode == 0 and "verification failed" not in run.stderr, run.stderr
