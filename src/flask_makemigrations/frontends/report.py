"""What a front end shows of a run: lines for stdout and for stderr, and the exit status.

Every front end renders results and errors through these functions and only writes the lines out, so
each says the same things and exits the same way: 0 success or no changes, 1 ``--check`` found
changes, 2 every error, 130 after Ctrl-C, 143 after SIGTERM. stdout carries results only (what a
script reads: the path written, one line per operation, a dry run's script); stderr the rest.
Standard library only, like ``errors``: an error must be reportable before the engine is imported.
"""

import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..checks.locks.findings import history_findings
from ..errors import (
    Advice,
    MakemigrationsError,
    Spelling,
    Terminated,
    UnansweredQuestionError,
    attached_advice,
    exit_call,
    shown_path,
    unexpected,
)
from ..findings import rendered

if TYPE_CHECKING:  # the engine's types, for the checker only: this module must import without them
    from ..api import CacheState, Rebased, Regenerated, Result, Squashed
    from ..checks.branches import Against
    from ..checks.locks.report import LockReport
    from ..checks.whole_history import Verified
    from ..run.run import Built
    from ..shadow.server import PruneResult

SUCCESS, CHANGES, ERROR, INTERRUPTED, TERMINATED = 0, 1, 2, 130, 143
#: A question only the user can answer stopped a writing run (Django's status for it).
UNANSWERED = 3


@dataclass
class Report:
    """What to write, in this order: ``stderr``, then ``stdout``, then ``closing`` on stderr."""

    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    closing: str | None = None
    status: int = SUCCESS
    #: The file the run wrote, to name it even when stdout, which names it, cannot be written.
    written: str | None = None


def _warnings(warnings: Iterable[str], spelling: Spelling | None = None) -> list[str]:
    """Each warning's line, a finding's hint spelled the way this front end names its tasks."""
    return [f"Warning: {rendered(warning, spelling)}" for warning in warnings]


def _summary(built: "Built | None") -> list[str]:
    """One line however long the history (--verbose shows Alembic's line per revision)."""
    if built is None:
        return []
    cached = f"restored at {built.restored} from the cache, then " if built.restored else ""
    return [f"Shadow database at head: {cached}{built.applied} revision(s) applied"]


def _notes(notes: Iterable[Advice], spelling: Spelling) -> list[str]:
    return [f"Note: {note.render(spelling)}" for note in notes]


#: What a ``make_migrations`` run came to (``--format json`` calls it ``status``).
WRITTEN, DRY_RUN, CHANGES_PENDING, NO_CHANGES = "written", "dry-run", "changes-pending", "no-changes"
#: What a check ``--against`` a branch came to when the merged history is all it found (``verify`` too).
BRANCH_CONFLICT = "branch-conflict"


def outcome(result: "Result", dry_run: bool) -> str:
    if dry_run and result.script:
        return DRY_RUN
    if result.path:
        return WRITTEN
    # Pending: a check found operations, or any run differences no operation writes (drift).
    if result.operations or result.differences:
        return CHANGES_PENDING
    return BRANCH_CONFLICT if conflicting(result.against) else NO_CHANGES


def conflicting(against: "Against | None") -> bool:
    """Whether ``--against`` found the merged history with several heads or a table both sides change."""
    return against is not None and bool(against.findings)


def _branch_conflict(against: "Against | None") -> str:
    """The closing line of a check whose only failure is the branch's: the warnings say what."""
    ref = against.ref if against is not None else "the target"
    return f"The migrations of this branch and {ref} conflict: see the warnings above"


#: The prefix of a difference among the operations (``+``, ``-``, ``~``): drift no operation writes.
DIFFERENCE = "!"


def _listed(result: "Result") -> list[str]:
    """The operations, each with what it locked on the shadow database (PostgreSQL's), then
    verification's differences: everything by which the models and the migrations differ, one line each."""
    locks = result.locks
    operations = [line + (locks.beside(line) if locks else "") for line in result.operations]
    return operations + [f"{DIFFERENCE} {line}" for line in result.differences]


def of_makemigrations(result: "Result", dry_run: bool, run_again: str, spelling: Spelling) -> Report:
    """A ``make_migrations`` result; ``run_again`` is how this front end writes a run that writes
    the pending changes (said when a check finds some), ``spelling`` how it names its other tasks."""
    report = Report(
        stderr=_summary(result.built) + _notes(result.notes, spelling) + _warnings(result.warnings, spelling)
    )
    came_to = outcome(result, dry_run)
    listed = _listed(result)
    if came_to == DRY_RUN:
        report.stdout = [(result.script or "").removesuffix("\n")]
        report.stderr += [f"  {line}" for line in listed]
    elif came_to == WRITTEN:
        report.stdout = [shown_path(result.path or "")] + [f"  {line}" for line in listed]
        report.written = shown_path(result.path or "")
    elif came_to == CHANGES_PENDING:
        report.stdout = listed
        report.closing = (
            f"Models and migrations differ: run {run_again}"
            if result.operations
            else "Models and migrations differ in what no operation writes: write it by hand"
        )
        report.status = CHANGES
    elif came_to == BRANCH_CONFLICT:
        report.closing, report.status = _branch_conflict(result.against), CHANGES
    else:
        report.stdout = ["No changes detected"]
    return report


def of_merge(result: "Result") -> Report:
    if result.path is None:
        return Report()
    return Report(stdout=[shown_path(result.path)], written=shown_path(result.path))


def of_squash(squashed: "Squashed", spelling: Spelling) -> Report:
    """The new file (or, with --dry-run, its script) on stdout; on stderr what it folds and the proof."""
    proof = squashed.proof
    removed = "would remove" if squashed.path is None else "removed"
    stderr = _notes(squashed.notes, spelling) + [
        f"Squashed {len(squashed.folded)} revision(s) after {proof.since} into {squashed.revision}; "
        f"{removed}: {', '.join(map(shown_path, squashed.folded))}",
        f"Proven on the shadow database: the squashed history builds the old one's schema at head "
        f"({proof.tables} table(s)), downgrades to exactly the schema at {proof.since}, upgrades again, "
        "and matches the models",
    ]
    if squashed.backup is not None:
        stderr.append(f"Copies of the removed files: {shown_path(squashed.backup)}")
    if squashed.path is None:
        return Report(stderr=stderr, stdout=(squashed.script or "").splitlines())
    return Report(stderr=stderr, stdout=[shown_path(squashed.path)], written=shown_path(squashed.path))


def of_rebase(rebased: "Rebased", spelling: Spelling) -> Report:
    """The rewritten file on stdout (with --dry-run, the diff); on stderr what moved and the proof, or
    what the regenerated revision replaced and does."""
    if rebased.nothing is not None:
        return Report(
            stderr=_notes(rebased.notes, spelling), stdout=[f"Nothing to rebase: {rebased.nothing}"]
        )
    notes = _notes(rebased.notes, spelling)
    copies = [f"Copies of the removed files: {shown_path(rebased.backup)}"] if rebased.backup else []
    if rebased.regenerated is not None:
        return _of_regenerated(rebased.regenerated, rebased, notes + copies)
    moved, proof = rebased.moved, rebased.proof
    first, written = moved[0], not rebased.diff  # a dry run's diff is never empty: the parent changes
    stderr = [
        f"Rebased {len(moved)} revision(s) of this branch onto {rebased.ref}'s head {rebased.onto}: "
        f"{first.revision} ({shown_path(first.old_path)}) {'revises' if written else 'would revise'} "
        f"{first.new_parent} instead of {first.old_parent}",
        *[
            f"{'Renamed' if written else 'Would rename'} {shown_path(m.old_path)} -> {shown_path(m.path)}"
            for m in moved
            if m.path != m.old_path
        ],
    ]
    if proof is not None:
        stderr.append(
            f"Proven on the shadow database: after {proof.onto}, {proof.revisions} revision(s) of this "
            "branch upgrade, downgrade and upgrade again, and the new head matches the models "
            f"({proof.tables} table(s))"
        )
    if not written:
        return Report(stderr=stderr + notes, stdout=rebased.diff)
    path = shown_path(first.path)
    return Report(stderr=stderr + copies + notes, stdout=[path], written=path)


def _of_regenerated(regenerated: "Regenerated", rebased: "Rebased", notes: list[str]) -> Report:
    """This branch's revisions replaced by one generated against the target's head: why, what they
    did and what it does."""
    replaced = ", ".join(map(shown_path, regenerated.replaced))
    removed = "removed" if regenerated.path is not None else "would remove"
    stderr = [
        f"This branch's revisions did not apply after {rebased.ref}'s head {rebased.onto} "
        f"({regenerated.reason})",
        f"Regenerated them as {regenerated.revision} against {rebased.onto}, verified; {removed}: {replaced}",
        "They did:",
        *[f"  {line}" for statement in regenerated.old_operations for line in statement.splitlines()],
        "It does:",
        *[f"  {operation}" for operation in regenerated.operations or ["nothing (a blank revision)"]],
    ]
    if regenerated.path is None:
        return Report(stderr=stderr + notes, stdout=regenerated.script.splitlines())
    path = shown_path(regenerated.path)
    return Report(stderr=stderr + notes, stdout=[path], written=path)


def of_verify(verified: "Verified", seconds: float, spelling: Spelling) -> Report:
    """The one line of a verified history; with ``--against``, what merging the ref would do, as
    warnings and status 1 when it conflicts."""
    found = verified.against.findings if verified.against is not None else []
    report = Report(
        stderr=_notes(verified.notes, spelling) + _warnings(found, spelling),
        stdout=[
            f"Verified {verified.revisions} revision(s) in {seconds:.1f}s: each upgrades, downgrades and "
            "upgrades again; head matches the models; base leaves no table behind"
        ],
    )
    if verified.locks is not None:
        report.stdout += [line for locked in verified.locks for line in locked.listed()]
        report.stderr += _warnings(history_findings(verified.locks), spelling)
    if found:
        report.closing, report.status = _branch_conflict(verified.against), CHANGES
    return report


def of_locks(reports: "list[LockReport]") -> Report:
    """What each revision ran and locked, on stdout; the patterns that block production as warnings."""
    return Report(
        stdout=[line for locked in reports for line in locked.listed()],
        stderr=_warnings(history_findings(reports)),
    )


def of_prune(result: "PruneResult") -> Report:
    report = Report(stdout=[f"dropped {name}" for name in result.dropped])
    if not result.dropped and not result.failures:  # only when it is true
        report.stdout = ["No leaked shadow databases"]
    if result.failures:
        report.closing = "\n".join(f"Error: {line}" for line in result.failures)
        report.status = ERROR
    return report


def of_cache(state: "CacheState", directory: str) -> Report:
    dumps = f", {state.dump_sets} portable PostgreSQL snapshot(s)" if state.dump_sets else ""
    snapshots = f"{state.snapshot_sets} snapshot(s){dumps}"
    lines = [
        f"Cache: {state.folder}",
        f"This project ({shown_path(directory)}): {state.project_folder} ({snapshots})",
    ]
    if state.server is not None:
        lines.append(f"Template databases on {state.server}: {len(state.templates)}")
        lines += [f"  {template.name}" for template in state.templates]
    return Report(stdout=lines)


def of_cleared_cache(cleared: list[tuple[int, str]]) -> Report:
    """A line per place the snapshots were removed from: how many sets, and where."""
    return Report(stdout=[f"Removed {removed} snapshot(s) from {where}" for removed, where in cleared])


def of_unwritable_stdout(exc: OSError, written: str | None) -> str:
    """The closing line when the results could not go to stdout; the file a run wrote is named here,
    since the line on stdout that named it never arrived."""
    line = f"Error: writing the results to stdout failed: {exc.strerror or exc}"
    return f"{line}; {written} was written all the same" if written else line


def of_exception(exc: BaseException, spelling: Spelling, verbose: bool = False) -> Report:
    """Anything that ended a run early, as one line and its status; never 0 or 1 for an error.
    Advice the cleanup attached (a database left behind) comes first, as warnings."""
    report = _of_exception(exc, spelling, verbose)
    report.stderr = _warnings(a.render(spelling) for a in attached_advice(exc)) + report.stderr
    return report


def _of_exception(exc: BaseException, spelling: Spelling, verbose: bool) -> Report:
    if isinstance(exc, MakemigrationsError):  # --strict: the warnings that made it fail come first
        return Report(
            stderr=_warnings(getattr(exc, "warnings", ()), spelling),
            closing=f"Error: {exc.render(spelling)}",
            status=UNANSWERED if isinstance(exc, UnansweredQuestionError) else ERROR,
        )
    if isinstance(exc, KeyboardInterrupt):
        return Report(
            closing="Interrupted: nothing was written and the shadow database is gone.", status=INTERRUPTED
        )
    if isinstance(exc, Terminated):
        return Report(
            closing="Terminated: nothing was written and the shadow database is gone.", status=TERMINATED
        )
    if isinstance(exc, SystemExit):  # user code the engine did not expect to run there
        return Report(closing=f"Error: the app or a migration called {exit_call(exc)}", status=ERROR)
    # A bug, ours or a library's: still one line, and never 0 or 1.
    shown = traceback.format_exception(exc) if verbose else []
    return Report(
        stderr=["".join(shown).rstrip()] if shown else [], closing=f"Error: {unexpected(exc)}", status=ERROR
    )
