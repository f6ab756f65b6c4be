"""What a revision locks on PostgreSQL (``checks/locks/``), measured on the shadow database of a real
server: each blocking pattern gives its measured report and its finding, a harmless revision gives
none."""

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import USERNAME, ProjectCopy, findings, written_text
from pg_cluster import Cluster
from server_runs import make

from flask_makemigrations.checks.locks.findings import history_findings
from flask_makemigrations.checks.locks.report import LockReport
from flask_makemigrations.run.session import Runtime

TITLE = "title = db.Column(db.String(120), nullable=False)"
AUTHOR = 'author_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)'


def beside(report: LockReport | None, operation: str) -> str:
    """What the report shows beside an operation's line."""
    assert report is not None and report.measured
    return report.beside(operation)


def lock_kinds(warnings: Sequence[str]) -> list[str]:
    """The kinds of the lock findings among the warnings, sorted."""
    return sorted(finding.kind for finding in findings(list(warnings)) if "lock" in finding.fields)


def test_each_blocking_pattern_is_measured_and_found(project: ProjectCopy, postgres: Cluster) -> None:
    """An index built in the transaction, a foreign key validated as it is added, a type change that
    rewrites the table, SET NOT NULL that scans it, and no lock_timeout: each as measured."""
    project.add_model_line(USERNAME, "age = db.Column(db.Integer)")
    project.add_model_line(AUTHOR, "editor_id = db.Column(db.Integer)")
    make(project, postgres, "age and editor")
    project.edit("app/models.py", TITLE, TITLE.replace("nullable=False", "nullable=False, index=True"))
    project.edit(
        "app/models.py", "age = db.Column(db.Integer)", "age = db.Column(db.BigInteger, nullable=False)"
    )
    project.edit(
        "app/models.py",
        "editor_id = db.Column(db.Integer)",
        'editor_id = db.Column(db.Integer, db.ForeignKey("user.id"))',
    )

    checked = make(project, postgres, check=True)

    locks = checked.locks
    assert beside(locks, "+ index ix_post_title on post") == (
        ": SHARE lock on post (blocks writes) until the revision commits; scanned post"
    )
    foreign_key = beside(locks, "+ foreign key fk_post_editor_id_user on post")
    assert foreign_key.startswith(
        ": SHARE ROW EXCLUSIVE lock on post (blocks writes) until the revision commits"
    )
    assert foreign_key.endswith("; scanned post")
    altered = beside(locks, "~ column user.age (type INTEGER -> BIGINT, not null)")
    assert altered.startswith(
        ": ACCESS EXCLUSIVE lock on user (blocks reads and writes) until the revision commits"
    )
    assert "; rewrote user" in altered and "scanned user" in altered
    assert lock_kinds(checked.warnings) == [
        "constraint_validated", "index_not_concurrent", "lock_timeout_missing", "set_not_null_scan",
        "table_rewritten",
    ], checked.warnings  # fmt: skip


def test_a_new_table_with_an_index_gives_no_finding(project: ProjectCopy, postgres: Cluster) -> None:
    """A new table blocks nobody, nor do its indexes; its foreign key locks its parent for a moment."""
    project.write(
        "app/models.py",
        (project.root / "app" / "models.py").read_text()
        + "\n\nclass Tag(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
        "    name = db.Column(db.String(40), index=True)\n"
        '    user_id = db.Column(db.Integer, db.ForeignKey("user.id"))\n',
    )
    checked = make(project, postgres, check=True)
    assert checked.operations == ["+ table tag", "+ index ix_tag_name on tag"]
    assert checked.locks is not None and checked.locks.measured and len(checked.locks.statements) == 2
    assert lock_kinds(checked.warnings) == [] and checked.warnings == []


def test_strict_refuses_a_blocking_finding_with_the_report_in_json(
    project: ProjectCopy, postgres: Cluster
) -> None:
    """``--check --strict --format json``, as the front end renders the engine's error: exit 2, the
    finding among the warnings, and each statement's measured locks."""
    project.edit("app/models.py", TITLE, TITLE.replace("nullable=False", "nullable=False, index=True"))
    where = {"database": postgres.url_string()}
    done = project.makemigrations_shown(check=True, strict=True, format="json", where=where)

    assert done.returncode == 2, done.stderr
    report = json.loads(done.stdout)
    assert report["error"]["kind"] == "StrictError" and report["status"] == "error"
    kinds = [warning["kind"] for warning in report["warnings"]]
    assert kinds == ["index_not_concurrent", "lock_timeout_missing"]
    assert report["warnings"][0]["lock"] == "SHARE" and report["warnings"][0]["blocks"] == ["writes"]
    (statement,) = report["locks"]
    assert statement["sql"] == "CREATE INDEX ix_post_title ON post (title)"
    assert statement["operation"] == "+ index ix_post_title on post"
    assert statement["locks"] == [{"relation": "post", "mode": "SHARE", "blocks": ["writes"]}]
    assert (statement["rewrote"], statement["scanned"], statement["in_transaction"]) == ([], ["post"], True)
    assert statement["lock_timeout"] == "0" and statement["elapsed"] >= 0


#: The example project's schema at 0002_posts, as its two revisions build it, with rows.
PRODUCTION = (
    'CREATE TABLE "user" (id SERIAL CONSTRAINT pk_user PRIMARY KEY, username VARCHAR(80) NOT NULL '
    "CONSTRAINT uq_user_username UNIQUE)",
    "CREATE TABLE post (id SERIAL CONSTRAINT pk_post PRIMARY KEY, title VARCHAR(120) NOT NULL, "
    "body TEXT NOT NULL, author_id INTEGER NOT NULL "
    'CONSTRAINT fk_post_author_id_user REFERENCES "user" (id))',
    "CREATE INDEX ix_post_author_id ON post (author_id)",
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY)",
    "INSERT INTO alembic_version VALUES ('0002_posts')",
    """INSERT INTO "user" (username) SELECT 'u' || n FROM generate_series(1, 50) AS n""",
    "INSERT INTO post (title, body, author_id) SELECT 't' || n, 'b', n FROM generate_series(1, 50) AS n",
)


@pytest.fixture
def production(postgres: Cluster) -> Iterator[str]:
    """A database of its own on the server, at 0002_posts with rows: the URL of it."""
    postgres.sql("CREATE DATABASE locks_production", database="postgres")
    try:
        for statement in PRODUCTION:
            production_sql(postgres, statement)
        yield postgres.url_string(database="locks_production")
    finally:
        postgres.sql("DROP DATABASE locks_production WITH (FORCE)", database="postgres")


def test_safe_rewrites_what_blocks_and_flask_db_upgrade_applies_it_on_rows(
    project: ProjectCopy, postgres: Cluster, production: str
) -> None:
    """--safe: the index built concurrently, the foreign key NOT VALID then validated, SET NOT NULL
    proven by a validated CHECK, a lock_timeout first; its report no longer shows a blocking pattern,
    and ``flask db upgrade`` applies it on a database with rows."""
    project.add_model_line(AUTHOR, "views = db.Column(db.Integer, server_default='0')")
    make(project, postgres, "views")
    project.edit("app/models.py", TITLE, TITLE.replace("nullable=False", "nullable=False, index=True"))
    project.edit("app/models.py", "server_default='0')", "server_default='0', nullable=False)")
    project.add_model_line(AUTHOR, 'editor_id = db.Column(db.Integer, db.ForeignKey("user.id"))')

    result = make(project, postgres, "safe", safe=True)

    assert lock_kinds(result.warnings) == [], result.warnings
    locks = result.locks
    assert beside(locks, "+ index ix_post_title on post") == ""  # built outside the transaction
    assert beside(locks, "~ column post.views (not null)") == (
        ": ACCESS EXCLUSIVE lock on post (blocks reads and writes) "
        "until the autocommit block after it commits them"
    )  # taken again after the VALIDATE's autocommit block, without a scan: the CHECK proves it
    assert beside(locks, "+ foreign key fk_post_editor_id_user on post").startswith(
        ": SHARE ROW EXCLUSIVE lock on post (blocks writes) until the autocommit block after it commits them"
    )  # NOT VALID: no scan; the VALIDATE after it is outside the transaction
    assert result.operations[0] == "~ lock_timeout 5s"
    script = written_text(result)
    assert (
        "postgresql_concurrently=True" in script
        and "DROP INDEX CONCURRENTLY IF EXISTS ix_post_title" in script
    )
    assert "NOT VALID" in script and "VALIDATE CONSTRAINT fk_post_editor_id_user" in script

    upgraded = project.run(["flask", "db", "upgrade"], env={"DATABASE_URL": production})
    assert upgraded.returncode == 0, upgraded.stderr
    assert production_sql(
        postgres, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_post_title'::regclass"
    ) == [(True,)]
    constraints = (
        "SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'post'::regclass ORDER BY 1"
    )
    assert production_sql(postgres, constraints) == [
        ("fk_post_author_id_user", True), ("fk_post_editor_id_user", True), ("pk_post", True),
    ]  # fmt: skip
    nullable = "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'post'::regclass AND attname = 'views'"
    assert production_sql(postgres, nullable) == [(True,)]


def production_sql(postgres: Cluster, statement: str) -> list[tuple[Any, ...]]:
    return postgres.sql(statement, database="locks_production")


HAND_WRITTEN = """from alembic import op
import sqlalchemy as sa

revision = "0003_hand"
down_revision = "0002_posts"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET lock_timeout = '2s'")
    op.execute("CREATE INDEX ix_post_body ON post (body)")
    op.add_column("user", sa.Column("age", sa.Integer()))


def downgrade():
    op.drop_column("user", "age")
    op.drop_index("ix_post_body", table_name="post")
"""


def test_an_existing_revision_reports_what_it_runs_in_locks_and_verify(
    project: ProjectCopy, postgres: Cluster
) -> None:
    """``locks 0003_hand`` and ``verify --locks``: a hand-written revision's own statements, in order,
    each with what it did; its lock_timeout keeps it from a finding but the index's."""
    from flask_makemigrations import Project, revision_locks, verify_history

    (project.versions / "0003_hand.py").write_text(HAND_WRITTEN)
    project.add_model_line(USERNAME, "age = db.Column(db.Integer)")
    project.add_model_line(TITLE, "__table_args__ = (db.Index('ix_post_body', 'body'),)")
    where = Project(database=postgres.url_string())
    with project.inside():
        (report,) = revision_locks(where, "0003")
        verified = verify_history(where, locks=True)

    assert [statement.sql for statement in report.statements] == [
        "SET lock_timeout = '2s'", "CREATE INDEX ix_post_body ON post (body)",
        'ALTER TABLE "user" ADD COLUMN age INTEGER',
    ]  # fmt: skip
    assert report.listed() == [
        "0003_hand (migrations/versions/0003_hand.py):",
        "  SET lock_timeout = '2s'",
        "  CREATE INDEX ix_post_body ON post (body): SHARE lock on post (blocks writes) until the revision "
        "commits; scanned post",
        '  ALTER TABLE "user" ADD COLUMN age INTEGER: ACCESS EXCLUSIVE lock on user '
        "(blocks reads and writes) until the revision commits",
    ]
    assert verified.locks is not None and [locked.revision for locked in verified.locks] == [
        "0001_users", "0002_posts", "0003_hand",
    ]  # fmt: skip
    assert verified.locks[-1].listed() == report.listed()
    assert lock_kinds(history_findings([report])) == ["index_not_concurrent"]


@dataclass
class SaysYesToSafeForms:
    """A person at the terminal who answers yes to the safe forms, and no to the rest."""

    asked: list[list[str]] = field(default_factory=list)

    def ask_rename_table(self, old: str, new: str) -> bool:
        return False

    def ask_rename_column(self, table: str, old: str, new: str, type_: str) -> bool:
        return False

    def ask_not_null_addition(self, table: str, column: str, type_: str) -> str | None:
        return None

    def ask_regenerate(self, ref: str, head: str, reason: str) -> bool | None:
        return None

    def ask_safe_forms(self, findings: list[str]) -> bool:
        self.asked.append(findings)
        return True


def test_a_yes_to_the_question_writes_the_safe_forms(project: ProjectCopy, postgres: Cluster) -> None:
    """Asked (a writing run at a terminal) about the measured findings, a yes rewrites the revision
    as --safe does, and it is verified and measured again."""
    from flask_makemigrations import Project, Request, make_migrations

    project.edit("app/models.py", TITLE, TITLE.replace("nullable=False", "nullable=False, index=True"))
    person = SaysYesToSafeForms()
    with project.inside():
        result = make_migrations(
            Project(database=postgres.url_string()),
            Request(message="title index"),
            Runtime(questioner=person),
        )

    (asked,) = person.asked  # once, with what was measured
    assert [finding.kind for finding in findings(asked)] == ["index_not_concurrent", "lock_timeout_missing"]
    assert result.operations == ["~ lock_timeout 5s", "+ index ix_post_title on post"]
    assert lock_kinds(result.warnings) == [] and beside(result.locks, "+ index ix_post_title on post") == ""
    assert "postgresql_concurrently=True" in written_text(result)


def test_an_env_py_that_makes_its_own_engine_is_measured_too(project: ProjectCopy, postgres: Cluster) -> None:
    """Flask-Migrate 2.x's env.py makes an engine of its own from the URL (``engine_from_config``)
    instead of using the app's: the revision runs on the same database, and is measured there."""
    from flask_makemigrations import Project, revision_locks

    project.edit(
        "migrations/env.py",
        "    connectable = get_engine()",
        "    connectable = sa.create_engine(get_engine().url, poolclass=sa.pool.NullPool)",
    )
    project.edit("migrations/env.py", "import logging", "import logging\n\nimport sqlalchemy as sa")
    (project.versions / "0003_hand.py").write_text(HAND_WRITTEN)
    with project.inside():
        (report,) = revision_locks(Project(database=postgres.url_string()), "0003")

    assert [statement.sql for statement in report.statements] == [
        "SET lock_timeout = '2s'", "CREATE INDEX ix_post_body ON post (body)",
        'ALTER TABLE "user" ADD COLUMN age INTEGER',
    ]  # fmt: skip
    assert "SHARE lock on post (blocks writes)" in report.listed()[2]


def test_locks_refuses_a_revision_the_history_does_not_have(project: ProjectCopy, postgres: Cluster) -> None:
    from flask_makemigrations import Project, revision_locks

    def locks_of(revisions: str) -> object:
        with project.inside():
            return revision_locks(Project(database=postgres.url_string()), revisions)

    assert (
        project.engine_refuses(locks_of, "nope") == "locks nope: Can't locate revision identified by 'nope'"
    )
    assert project.engine_refuses(locks_of, "0001_users:nope") == (
        "locks 0001_users:nope: Can't locate revision identified by 'nope'"
    )
