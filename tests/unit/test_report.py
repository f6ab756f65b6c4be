"""The report every front end renders: which lines go to stdout and stderr, and the exit status, for
each kind of result and error. Unit tests on hand-built results; the CLI tests show it end to end."""

from dataclasses import replace
from pathlib import Path

import pytest

from flask_makemigrations.api import Result
from flask_makemigrations.errors import (
    Advice,
    ForeignDatabaseError,
    NextStep,
    StrictError,
    Terminated,
    UsageError,
    attach_advice,
    attached_advice,
)
from flask_makemigrations.frontends import report
from flask_makemigrations.frontends.invoke_tasks import SPELLING
from flask_makemigrations.run.run import Built
from flask_makemigrations.shadow.server import PruneResult

pytestmark = pytest.mark.version_independent  # the front ends' reports: this package's own

AGAIN = "'invoke makemigrations -m ...'"


def of(result: Result, dry_run: bool = False) -> report.Report:
    return report.of_makemigrations(result, dry_run, AGAIN, SPELLING)


def test_no_changes_is_one_line_on_stdout_whatever_the_mode() -> None:
    for dry_run in (False, True):
        shown = of(Result(built=Built(applied=2)), dry_run)
        assert (shown.stdout, shown.status, shown.closing) == (["No changes detected"], report.SUCCESS, None)
        assert shown.stderr == ["Shadow database at head: 2 revision(s) applied"]


def test_a_written_revision_is_its_path_then_its_operations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "migrations" / "versions" / "0003_add_email.py"
    shown = of(Result(operations=["+ column user.email"], path=path, built=Built(1, restored="0001")))
    assert shown.stdout == [str(Path("migrations/versions/0003_add_email.py")), "  + column user.email"]
    assert shown.stderr == [
        "Shadow database at head: restored at 0001 from the cache, then 1 revision(s) applied"
    ]
    assert shown.status == report.SUCCESS


def test_check_with_changes_lists_them_on_stdout_and_exits_1() -> None:
    shown = of(Result(operations=["+ column user.email"], warnings=["risky"], differences=["differs"]))
    assert shown.stdout == ["+ column user.email", "! differs"]
    assert shown.stderr == ["Warning: risky"]
    assert shown.closing == f"Models and migrations differ: run {AGAIN}"
    assert shown.status == report.CHANGES


def test_differences_alone_are_pending_too_in_every_mode() -> None:
    """Drift that no operation writes: listed, exit 1, never "No changes detected"."""
    for dry_run in (False, True):
        shown = of(Result(differences=["check constraint ck on t: only in the models"]), dry_run)
        assert shown.stdout == ["! check constraint ck on t: only in the models"]
        assert shown.status == report.CHANGES
        assert shown.closing == "Models and migrations differ in what no operation writes: write it by hand"


def test_a_dry_run_puts_the_script_alone_on_stdout() -> None:
    script = '"""add email"""\nrevision = "x"\n'
    shown = of(Result(operations=["+ column user.email"], script=script), dry_run=True)
    assert shown.stdout == [script.removesuffix("\n")]
    assert shown.stderr == ["  + column user.email"]
    assert shown.status == report.SUCCESS


def test_notes_name_the_next_task_in_the_front_ends_syntax() -> None:
    note = Advice("shadow databases were left; {command} drops them", NextStep.PRUNE)
    shown = of(Result(notes=[note]))
    assert shown.stderr == [
        "Note: shadow databases were left; 'invoke prune --database <the same URL>' drops them"
    ]


@pytest.mark.parametrize(
    "error",
    [UsageError("--rev-id 'x': bad"), ForeignDatabaseError("refused a connection to sqlite:///x")],
    ids=["usage", "foreign database"],
)
def test_every_error_of_the_engine_is_one_line_and_status_2(error: Exception) -> None:
    shown = report.of_exception(error, SPELLING)
    assert (shown.stdout, shown.stderr, shown.status) == ([], [], report.ERROR)
    assert shown.closing == f"Error: {error}"


def test_strict_shows_the_warnings_that_made_it_fail_first() -> None:
    error = StrictError("--strict: 1 warning(s), so nothing was written", ["drops a column"])
    shown = report.of_exception(error, SPELLING)
    assert shown.stderr == ["Warning: drops a column"] and shown.status == report.ERROR


def test_advice_from_the_cleanup_comes_before_the_error() -> None:
    error = UsageError("the run failed")
    attach_advice(error, Advice("the shadow database x was left behind; {command} drops it", NextStep.PRUNE))
    shown = report.of_exception(error, SPELLING)
    assert shown.stderr == [
        "Warning: the shadow database x was left behind; 'invoke prune --database <the same URL>' drops it"
    ]
    assert shown.closing == "Error: the run failed"


def test_advice_attached_to_any_exception_is_read_back_in_the_order_attached() -> None:
    interrupted = KeyboardInterrupt()
    first, second = Advice("a database was left"), Advice("{command} drops it", NextStep.PRUNE)
    attach_advice(interrupted, first)
    attach_advice(interrupted, second)

    assert attached_advice(interrupted) == [first, second]
    assert attached_advice(ValueError("no advice")) == []
    assert report.of_exception(interrupted, SPELLING).stderr == [
        "Warning: a database was left",
        "Warning: 'invoke prune --database <the same URL>' drops it",
    ]


def test_signals_and_exits_and_bugs_are_never_status_0_or_1() -> None:
    interrupted = report.of_exception(KeyboardInterrupt(), SPELLING)
    terminated = report.of_exception(Terminated(), SPELLING)
    exited = report.of_exception(SystemExit(0), SPELLING)
    assert (interrupted.status, terminated.status, exited.status) == (130, 143, report.ERROR)
    assert exited.closing == "Error: the app or a migration called sys.exit(0)"
    try:
        {"present": 1}["missing"]
    except KeyError as bug:
        quiet, verbose = report.of_exception(bug, SPELLING), report.of_exception(bug, SPELLING, verbose=True)
    assert quiet.status == verbose.status == report.ERROR and quiet.stderr == []
    assert quiet.closing is not None and quiet.closing.startswith(
        "Error: unexpected KeyError in test_report.py:"
    )
    assert verbose.stderr[0].startswith("Traceback (most recent call last)")


def test_prune_lists_what_it_dropped_and_fails_on_what_it_could_not() -> None:
    assert report.of_prune(PruneResult()).stdout == ["No leaked shadow databases"]
    shown = report.of_prune(PruneResult(dropped=["fmm_shadow_a"], failures=["fmm_shadow_b: in use"]))
    assert shown.stdout == ["dropped fmm_shadow_a"]
    assert (shown.closing, shown.status) == ("Error: fmm_shadow_b: in use", report.ERROR)


def test_a_regenerated_rebase_says_what_the_old_revisions_did_and_what_the_new_one_does() -> None:
    from flask_makemigrations.api import Rebased, Regenerated

    old = Path("migrations/versions/0003_wide.py")
    regenerated = Regenerated(
        "0003_wide",
        "verification failed at downgrade ...",
        [old],
        ["with op.batch_alter_table('user') as batch_op:\n    batch_op.alter_column('username')"],
        ["~ column user.username (type VARCHAR(100) -> VARCHAR(200))"],
        '"""wider names\n',
    )
    rebased = Rebased("main", "0003_main", regenerated=regenerated)

    dry = report.of_rebase(rebased, SPELLING)
    rebased.regenerated = replace(regenerated, path=Path("migrations/versions/n.py"))  # written
    written = report.of_rebase(rebased, SPELLING)

    assert dry.stdout == ['"""wider names'] and (dry.status, dry.written) == (report.SUCCESS, None)
    assert dry.stderr[1:] == [
        "Regenerated them as 0003_wide against 0003_main, verified; would remove: "
        "migrations/versions/0003_wide.py",
        "They did:",
        "  with op.batch_alter_table('user') as batch_op:",
        "      batch_op.alter_column('username')",
        "It does:",
        "  ~ column user.username (type VARCHAR(100) -> VARCHAR(200))",
    ]
    assert written.stdout == ["migrations/versions/n.py"] and written.written == "migrations/versions/n.py"
    assert "removed: migrations/versions/0003_wide.py" in written.stderr[1]
