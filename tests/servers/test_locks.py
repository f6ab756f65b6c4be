"""What a revision locks on PostgreSQL (``checks/locks/``), measured on the shadow database of a real
server: each blocking pattern gives its measured report and its finding, a harmless revision gives
none."""

import json
import sys

from conftest import ProjectCopy, findings
from pg_cluster import Cluster
from server_runs import make

from flask_makemigrations.checks.locks.report import LockReport

USERNAME = "username = db.Column(db.String(80), unique=True, nullable=False)"
TITLE = "title = db.Column(db.String(120), nullable=False)"
AUTHOR = 'author_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)'


def beside(report: LockReport | None, operation: str) -> str:
    """What the report shows beside an operation's line."""
    assert report is not None and report.measured
    return report.beside(operation)


def lock_kinds(warnings: list[str]) -> list[str]:
    """The kinds of the lock findings among the warnings, sorted."""
    return sorted(finding.kind for finding in findings(warnings) if "lock" in finding.fields)


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
    """A real ``python -m flask_makemigrations --check --strict --format json``: exit 2, the finding
    among the warnings, and each statement's measured locks."""
    project.edit("app/models.py", TITLE, TITLE.replace("nullable=False", "nullable=False, index=True"))
    command = [sys.executable, "-m", "flask_makemigrations", "--check", "--strict", "--format", "json"]
    done = project.run([*command, "--database", postgres.url_string()])

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
