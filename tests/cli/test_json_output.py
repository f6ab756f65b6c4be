"""``--format json``: one JSON object on stdout, the same exit statuses, parsed as a CI tool would.

Real runs of each front end for what only a process shows (stdout holds the object and nothing
else; stderr keeps its lines; the exit status); the entries for warnings and differences from the
engine's results in this process.
"""

import json
import sys
from typing import Any

import pytest
from conftest import HEAD, USERNAME, ProjectCopy
from project_edits import add_unnamed_check

from flask_makemigrations.api import Result
from flask_makemigrations.frontends import json_report
from flask_makemigrations.frontends.invoke_tasks import SPELLING
from flask_makemigrations.frontends.report import Report

COMMANDS = {
    "invoke": None,  # ProjectCopy.invoke
    "python -m": [sys.executable, "-m", "flask_makemigrations"],
}


def run_json(project: ProjectCopy, front: str, *args: str) -> tuple[int, dict[str, Any], str]:
    """A run with --format json; returns its exit status, the parsed object and stderr."""
    if front == "invoke":
        command = project.invoke_command(*(args[:1] if args[:1] == ("verify",) else ("makemigrations",)))
        arguments = [a for a in args if a != "verify"]
    else:
        command, arguments = COMMANDS[front] or [], list(args)
    result = project.run([*command, *arguments, "--format", "json"])
    return result.returncode, json.loads(result.stdout), result.stderr


def test_pending_then_written_then_verified(project: ProjectCopy) -> None:
    """Through Invoke; every front end renders through the same ``runs`` (the others below)."""
    front = "invoke"
    project.add_email_column()

    status, pending, stderr = run_json(project, front, "--check")
    assert (status, pending["format"], pending["status"], pending["exit_status"]) == (
        1,
        1,
        "changes-pending",
        1,
    )
    assert pending["operations"] == [
        {"kind": "add_column", "table": "user", "column": "email", "line": "+ column user.email"}
    ]
    assert pending["shadow"] == {"applied": 2, "restored": None} and pending["error"] is None
    assert "Models and migrations differ" in stderr  # stderr keeps its lines for people

    status, written, _ = run_json(project, front, "-m", "add email")
    (new,) = project.new_revisions([*project.revision_files()[:2]])
    assert (status, written["status"], written["path"]) == (0, "written", f"migrations/versions/{new.name}")
    assert written["revision"] and written["revision"] in new.read_text()

    status, verified, _ = run_json(project, front, "verify")
    assert (status, verified["command"], verified["status"], verified["revisions"]) == (
        0,
        "verify",
        "verified",
        3,
    )


def test_a_dry_run_carries_the_script(project: ProjectCopy) -> None:
    project.add_email_column()
    status, shown, _ = run_json(project, "python -m", "--dry-run")
    assert (status, shown["status"], shown["path"]) == (0, "dry-run", None)
    assert f"down_revision = {HEAD!r}" in shown["script"]


def test_an_error_is_an_object_too_with_status_2_and_its_line_on_stderr(project: ProjectCopy) -> None:
    front = "python -m"
    project.add_revision("0003_left", HEAD)
    project.add_revision("0003_right", HEAD)

    status, shown, stderr = run_json(project, front, "--check")

    assert (status, shown["status"], shown["exit_status"]) == (2, "error", 2)
    every_key = json_report.as_json(Report(), json_report.of_makemigrations(Result(), False, SPELLING))
    assert set(shown) == set(json.loads(every_key.stdout[0]))  # the same keys, null where unknown
    assert shown["path"] is None and shown["operations"] == []
    assert shown["error"]["kind"] == "MultipleHeadsError"
    assert shown["error"]["message"].startswith("the history has several heads (0003_left, 0003_right)")
    assert shown["error"]["hint"] == "'python -m flask_makemigrations merge'"
    assert stderr.strip().splitlines()[-1] == f"Error: {shown['error']['message']}"


@pytest.mark.version_independent  # the front end's parsing and JSON: this package's own
def test_a_usage_error_is_an_object_too(project: ProjectCopy) -> None:
    status, shown, _ = run_json(project, "invoke", "--check", "--dry-run")
    assert (status, shown["error"]["kind"], shown["error"]["message"]) == (
        2,
        "UsageError",
        "--check and --dry-run cannot be combined",
    )


def entries(result: Result) -> dict[str, Any]:
    """The JSON of an engine result, through a real encode and decode."""
    entries: dict[str, Any] = json.loads(json.dumps(json_report.of_makemigrations(result, False, SPELLING)))
    return entries


def test_warnings_and_differences_name_their_kind_and_objects(project: ProjectCopy) -> None:
    project.edit("app/models.py", "    body = db.Column(db.Text, nullable=False)\n", "")
    add_unnamed_check(project)

    shown = entries(project.make_migrations(check=True))

    (warning,) = shown["warnings"]
    assert (warning["kind"], warning["objects"]) == ("column_dropped", ["post.body"])
    assert warning["message"].startswith("column post.body is dropped")
    (difference,) = shown["differences"]
    assert difference["kind"] == "check_constraint" and difference["only_in"] == "the migrations"
    assert difference["objects"] == ["note"]
    assert shown["operations"][0]["kind"] == "drop_column"


def test_a_check_names_no_revision_since_it_writes_none(project: ProjectCopy) -> None:
    """The id autogenerate drew for a file never written is no revision anyone can find."""
    project.add_email_column()
    for flag in ("--check", "--dry-run"):
        status, shown, _ = run_json(project, "python -m", flag)
        assert (status, shown["operations"][0]["line"]) == (
            1 if flag == "--check" else 0,
            "+ column user.email",
        )
        assert (shown["revision"], shown["path"]) == (None, None)


def test_strict_keeps_what_the_run_found_in_its_own_keys(project: ProjectCopy) -> None:
    """--strict fails the run, but the run finished: its operations, differences and shadow database
    are known, and each kind of entry stays under its key (every ``kind`` is in README)."""
    project.edit("app/models.py", "    body = db.Column(db.Text, nullable=False)\n", "")
    project.add_model_line(USERNAME, "__table_args__ = (db.UniqueConstraint('username', 'id', name='both'),)")
    add_unnamed_check(project)

    status, shown, stderr = run_json(project, "invoke", "--check", "--strict")

    assert (status, shown["status"], shown["error"]["kind"]) == (2, "error", "StrictError")
    assert [op["kind"] for op in shown["operations"]] == ["drop_column", "add_constraint"]
    assert [warning["kind"] for warning in shown["warnings"]] == ["column_dropped", "unique_added"]
    (difference,) = shown["differences"]
    assert (difference["kind"], difference["objects"]) == ("check_constraint", ["note"])
    assert shown["shadow"] == {"applied": 3, "restored": None}
    assert (shown["revision"], shown["path"]) == (None, None)
    assert stderr.strip().splitlines()[-1] == f"Error: {shown['error']['message']}"
