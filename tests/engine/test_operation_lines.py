"""What each operation line says (``revisions/operations.py``): the lines ``--check`` prints and
``--format json`` carries must name each object so that two of them can be told apart, and show
the types the database gets.

Through the engine's API in this process, on a private copy of the example project; PostgreSQL on the
private server of the ``postgres`` fixture.
"""

import pytest
from conftest import ProjectCopy, findings
from pg_cluster import Cluster
from server_runs import make

from flask_makemigrations.findings import as_entry

AUTHOR = 'author_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)'
FK_CONVENTION = '    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",\n'
UQ_CONVENTION = '    "uq": "uq_%(table_name)s_%(column_0_name)s",\n'
#: Alembic's warning that a downgrade drops a constraint by a name nobody knows (as under flask db migrate).
UNNAMED_DROP = pytest.mark.filterwarnings("ignore:Autogenerate rendered a drop_constraint:UserWarning")


def without_naming_convention(project: ProjectCopy, *conventions: str) -> None:
    """The app names no constraint of these kinds: the database picks their names."""
    for convention in conventions:
        project.edit("app/extensions.py", convention, "")


@UNNAMED_DROP
def test_unnamed_foreign_keys_are_named_by_their_table_and_columns(project: ProjectCopy) -> None:
    without_naming_convention(project, FK_CONVENTION)
    project.add_model_line(AUTHOR, 'editor_id = db.Column(db.Integer, db.ForeignKey("user.id"))')
    project.add_model_line(AUTHOR, 'reviewer_id = db.Column(db.Integer, db.ForeignKey("post.id"))')

    result = project.make_migrations(check=True)

    keys = sorted((line for line in findings(result.operations) if line.kind == "add_constraint"), key=str)
    assert keys == [
        "+ foreign key on post (editor_id -> user.id)",
        "+ foreign key on post (reviewer_id -> post.id)",
    ]
    assert as_entry(keys[0], "line") == {
        "kind": "add_constraint",
        "table": "post",
        "type": "foreign key",
        "columns": ["editor_id"],
        "referred_table": "user",
        "referred_columns": ["id"],
        "line": "+ foreign key on post (editor_id -> user.id)",
    }


def test_a_named_constraint_keeps_its_name_and_says_its_columns_in_json(project: ProjectCopy) -> None:
    project.add_model_line(AUTHOR, 'editor_id = db.Column(db.Integer, db.ForeignKey("user.id"))')

    result = project.make_migrations(check=True)

    (key,) = (line for line in findings(result.operations) if line.kind == "add_constraint")
    assert key == "+ foreign key fk_post_editor_id_user on post"
    assert as_entry(key, "line") == {
        "kind": "add_constraint",
        "table": "post",
        "constraint": "fk_post_editor_id_user",
        "type": "foreign key",
        "columns": ["editor_id"],
        "referred_table": "user",
        "referred_columns": ["id"],
        "line": "+ foreign key fk_post_editor_id_user on post",
    }


REVIEW_TABLE = """    op.create_table('review',
    sa.Column('id', sa.Integer(), primary_key=True),
    sa.Column('title', sa.String(80)),
    sa.Column('post_id', sa.Integer(), sa.ForeignKey('post.id')))"""
REVIEW_MODEL = """

class Review(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(80), unique=True)
    post_id = db.Column(db.Integer)
"""


@UNNAMED_DROP
def test_an_unnamed_unique_constraint_added_and_a_foreign_key_dropped(project: ProjectCopy) -> None:
    """A foreign key created without a name is reflected without one: its drop is named by its
    columns too, in the line and in the review's warning."""
    without_naming_convention(project, FK_CONVENTION, UQ_CONVENTION)
    project.add_revision("0003_reviews", "0002_posts", REVIEW_TABLE, downgrade="    op.drop_table('review')")
    (project.root / "app/models.py").write_text((project.root / "app/models.py").read_text() + REVIEW_MODEL)

    result = project.make_migrations(check=True)

    keys = sorted((line for line in findings(result.operations) if "constraint" in line.kind), key=str)
    assert keys == ["+ unique constraint on review (title)", "- foreign key on review (post_id -> post.id)"]
    assert as_entry(keys[1], "line") == {
        "kind": "drop_constraint",
        "table": "review",
        "type": "foreign key",
        "columns": ["post_id"],
        "referred_table": "post",
        "referred_columns": ["id"],
        "line": "- foreign key on review (post_id -> post.id)",
    }
    dropped = [warning for warning in findings(result.warnings) if warning.kind == "foreign_key_dropped"]
    assert dropped == [
        "foreign key on review (post_id -> post.id) is dropped: the database no longer checks that "
        "these rows point to existing rows."
    ]
    assert dropped[0].fields == {"objects": ["review"]}


LIMITING = "limiting_factor = db.Column(db.String(255))"
ENUM = "db.Enum('time', 'capacity', 'material_shortage', name='limitingfactor')"


def test_a_changed_type_is_shown_as_postgresql_gets_it(project: ProjectCopy, postgres: Cluster) -> None:
    project.add_model_line(AUTHOR, LIMITING)
    make(project, postgres, "limiting factor")
    project.edit("app/models.py", LIMITING, f"limiting_factor = db.Column({ENUM})")

    result = make(project, postgres, check=True)

    (change,) = (line for line in findings(result.operations) if line.kind == "alter_column")
    assert change == "~ column post.limiting_factor (type VARCHAR(255) -> limitingfactor)"
    assert change.fields["changes"] == "type VARCHAR(255) -> limitingfactor"


def test_a_changed_type_is_shown_as_sqlite_gets_it(project: ProjectCopy) -> None:
    """SQLite has no enum type: it gets a VARCHAR as long as the longest value."""
    project.add_model_line(AUTHOR, LIMITING)
    project.make_migrations("limiting factor")
    project.edit("app/models.py", LIMITING, f"limiting_factor = db.Column({ENUM})")

    (change,) = (
        line
        for line in findings(project.make_migrations(check=True).operations)
        if line.kind == "alter_column"
    )
    assert change == "~ column post.limiting_factor (type VARCHAR(255) -> VARCHAR(17))"


def test_each_kind_of_constraint_says_its_kind_and_what_it_is_made_of() -> None:
    """What ``env.py`` hooks and extensions may put in a revision: Alembic's own spellings of each kind
    (``primarykey`` added, ``primary`` dropped) are shown as one."""
    import sqlalchemy as sa
    from alembic.operations import ops

    from flask_makemigrations.revisions.operations import describe

    check = ops.CreateCheckConstraintOp(None, "post", sa.text("length(body) > 0"))
    assert [
        describe(ops.CreatePrimaryKeyOp(None, "tag", ["post_id", "name"])),
        describe(ops.DropConstraintOp("pk_tag", "tag", type_="primary")),
        describe(check),
        describe(ops.DropConstraintOp("fk_post_x", "post")),
    ] == [
        "+ primary key on tag (post_id, name)",
        "- primary key pk_tag on tag",
        "+ check constraint on post (length(body) > 0)",
        "- constraint fk_post_x on post",  # a hand-made drop that does not say its kind
    ]
    assert as_entry(describe(check), "line")["condition"] == "length(body) > 0"
