"""What ``squash`` folds and what it refuses (``revisions/squashing.py``): schema operations inside an
autocommit block are schema operations; a statement the check does not read is named as such; and
every refusal's advice can be followed.

Through the engine's API in this process, on SQLite and PostgreSQL.
"""

import pytest
from conftest import HEAD, USERNAME, ProjectCopy, written_text
from pg_cluster import Cluster
from test_squash import squash

TITLE = "title = db.Column(db.String(120), nullable=False)"
CONCURRENT_INDEX = """    with op.get_context().autocommit_block():
        op.create_index(op.f('ix_post_title'), 'post', ['title'], unique=False{concurrently})"""
DROP_INDEX = """    with op.get_context().autocommit_block():
        op.drop_index(op.f('ix_post_title'), table_name='post'{concurrently})"""


def index_outside_the_transaction(project: ProjectCopy, concurrently: str = "") -> None:
    """0003_title_index: an index created in an autocommit block (as PostgreSQL's CREATE INDEX
    CONCURRENTLY must be), then two more revisions (0004_email, 0005_bio), models to match."""
    project.add_revision(
        "0003_title_index",
        HEAD,
        upgrade=CONCURRENT_INDEX.format(concurrently=concurrently),
        downgrade=DROP_INDEX.format(concurrently=concurrently),
    )
    project.edit("app/models.py", TITLE, TITLE.replace("nullable=False", "nullable=False, index=True"))
    project.add_email_column()
    project.make_migrations("email", rev_id="0004_email")
    project.add_model_line(USERNAME, "bio = db.Column(db.Text)")
    project.make_migrations("bio", rev_id="0005_bio")


@pytest.mark.version_independent  # the squash's own checks
def test_an_index_created_in_an_autocommit_block_is_folded(project: ProjectCopy) -> None:
    index_outside_the_transaction(project)

    done = squash(project, since="0001_users")

    assert [path.name for path in done.folded][0] == "0002_posts_add_post_table.py" and len(done.folded) == 4
    text = written_text(done)
    assert "batch_op.create_index(batch_op.f('ix_post_title'), ['title'], unique=False)" in text
    assert project.make_migrations(check=True).operations == []


def test_an_index_created_concurrently_is_folded_on_postgresql(
    project: ProjectCopy, postgres: Cluster
) -> None:
    index_outside_the_transaction(project, ", postgresql_concurrently=True")
    where = {"database": postgres.url_string()}

    done = squash(project, where=where)

    assert done.revision == "0005_bio" and len(done.folded) == 5
    assert project.verify_history(where=where).revisions == 1


LOOP = """    for column in ('title', 'body'):
        op.create_index(op.f('ix_post_' + column), 'post', [column], unique=False)"""


def grow_after(project: ProjectCopy, parent: str) -> list[str | None]:
    """``grow``'s two revisions (an email column, then a bio column), after ``parent``."""
    project.add_revision(
        "0004_email", parent, upgrade="    op.add_column('user', sa.Column('email', sa.String(120)))"
    )
    project.add_revision(
        "0005_bio", "0004_email", upgrade="    op.add_column('user', sa.Column('bio', sa.Text()))"
    )
    project.add_model_line(USERNAME, "email = db.Column(db.String(120))")
    project.add_model_line(USERNAME, "bio = db.Column(db.Text)")
    return ["0004_email", "0005_bio"]


BACKFILL = "    op.execute(\"UPDATE post SET body = ''\")"


@pytest.mark.version_independent  # the squash's own checks
@pytest.mark.parametrize(
    ("revision", "upgrade", "refusal", "models_match"),
    [
        (
            "0003_indexes",
            LOOP,
            "revisions in the range hold statements this check does not read, so the squash could not "
            "prove it keeps what they do: 0003_indexes (migrations/versions/0003_indexes.py: a for loop at "
            "line 17); write each schema operation as a statement of its own; squash after them "
            "(--since 0003_indexes)",
            False,  # the models have no indexes on post: no squash can pass
        ),
        (
            "0003_backfill",
            BACKFILL,
            "revisions in the range do more than change the schema, which the squash could not prove it "
            "keeps: 0003_backfill (migrations/versions/0003_backfill.py: op.execute()); squash after them "
            "(--since 0003_backfill)",
            True,
        ),
    ],
    ids=["a loop, a statement the check does not read", "a backfill"],
)
def test_a_refusal_names_what_it_cannot_prove_and_the_since_it_advises_squashes(
    project: ProjectCopy, revision: str, upgrade: str, refusal: str, models_match: bool
) -> None:
    project.add_revision(revision, HEAD, upgrade=upgrade)
    grow_after(project, revision)

    assert project.engine_refuses(squash, project) == refusal
    if models_match:
        assert squash(project, since=revision).revision == "0005_bio"


@pytest.mark.version_independent  # the squash's own checks
@pytest.mark.parametrize(
    ("followers", "follows"), [(0, "nothing follows it"), (1, "only the head follows it")]
)
def test_no_since_is_advised_where_none_can_leave_the_revision_out(
    project: ProjectCopy, followers: int, follows: str
) -> None:
    project.add_revision("0003_backfill", HEAD, upgrade=BACKFILL)
    if followers:
        grow_after(project, "0003_backfill")
        (project.versions / "0005_bio.py").unlink()
        project.edit("app/models.py", "\n    bio = db.Column(db.Text)", "")

    error = project.engine_refuses(squash, project)

    assert error.endswith(
        f"0003_backfill (migrations/versions/0003_backfill.py: op.execute()); no squash can leave out "
        f"0003_backfill ({follows}, and a squash folds two or more revisions)"
    )
    assert "--since" not in error
