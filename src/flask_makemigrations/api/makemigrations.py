"""``make_migrations``: autogenerate a revision against a shadow database at head, review and verify
it, and write it (or, for ``--check`` and ``--dry-run``, say what it would write)."""

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..checks.branches import Against
from ..checks.locks.findings import lock_findings, of_locks
from ..checks.locks.report import LockReport
from ..checks.new_revision import CHECK_HINT, NO_VERIFY_HINT, verify_new_revision
from ..checks.review import review
from ..errors import Advice, RevisionFailedError, StrictError, UnansweredQuestionError, shown_path
from ..findings import Finding
from ..questioner import NOT_NULL_DEFAULT, Question
from ..request import Request
from ..revisions.drift import drift_operations
from ..revisions.generation import Generated, generate
from ..run.run import Built, Run, open_run
from ..run.session import QUIET, Project, Runtime
from .steps import against_ref, check_measured, check_rev_id_is_new

if TYPE_CHECKING:  # for annotations only
    from ..revisions.completion import Drift


@dataclass
class Result:
    """What a run did, for the caller to print."""

    operations: list[str] = field(default_factory=list)  # one line per detected operation
    warnings: list[str] = field(default_factory=list)  # risky operations, failed post-write hooks
    notes: list[Advice] = field(default_factory=list)  # what to know that is no warning (tables the app made)
    differences: list[str] = field(default_factory=list)  # models vs. migrated schema, beyond autogenerate
    revision: str | None = None  # the id of the revision written, if any
    path: Path | None = None  # the file written into the project, if any
    script: str | None = None  # the new revision's source (what --dry-run prints)
    built: Built | None = None  # how the shadow database reached head (None: it did not need to)
    questions: list[Question] = field(default_factory=list)  # what no one answered (renames assumed no)
    against: Against | None = None  # with --against: the history merged with the ref's
    locks: LockReport | None = None  # what the new revision's statements locked (PostgreSQL), as verified


def make_migrations(project: Project, request: Request, runtime: Runtime = QUIET) -> Result:
    """Autogenerate a revision against a shadow database at head, review and verify it, and write it
    if the request's mode writes (and, with ``strict``, nothing is worth a warning)."""
    if request.safe:
        check_measured(project.database, "--safe")
    with open_run(project, runtime, request.mode.writes, request.use_cache) as run:
        check_rev_id_is_new(request.rev_id, run.history)
        previous_head = run.history.single_head()
        against = against_ref(run, request.against)  # git's answer first: it costs no database work
        with run.migrating() as migrated:
            built = (
                run.build_to_head(models_ahead=request.verify)
                if request.verify or not request.empty
                else None
            )
            generated = run.autogenerate(request.title, request.empty, request.rev_id, request.safe)
            _check_answered(generated, request)
            result = Result(
                operations=generated.operations,
                warnings=generated.warnings + _review(generated),
                notes=run.notes,
                script=generated.script,
                built=built,
                questions=generated.questions,
            )
            if request.verify:
                _verify(run, generated, previous_head, result, request)
                generated, request = _safe_written(run, generated, previous_head, result, request)
                generated = _drift_written(run, generated, previous_head, result, request)
        result.notes += migrated
        if against is not None:
            result.against, result.warnings = against, [*result.warnings, *against.findings]
        _check_strict(request, result)
        if request.mode.writes and generated.staged_file:
            result.path = run.publish(generated.staged_file)
            result.revision = generated.revision
        return result


def _check_answered(generated: Generated, request: Request) -> None:
    """A writing run cannot add a NOT NULL column to a table with rows without a value for them: with
    no answer it writes nothing and says which option answers the question (Django's status 3)."""
    unanswered = [question for question in generated.questions if question.kind == NOT_NULL_DEFAULT]
    if request.mode.writes and unanswered:
        asked = "; ".join(f"{question.text}: answer with {question.option}" for question in unanswered)
        raise UnansweredQuestionError(
            f"{asked} (a one-off default for the rows it has), or give the model a server_default; "
            "nothing was written",
            list(unanswered),
        )


def _check_strict(request: Request, result: Result) -> None:
    """With ``strict``, a warning or a difference means nothing is written."""
    if request.strict and (result.warnings or result.differences):
        count = len(result.warnings) + len(result.differences)
        raise StrictError(
            f"--strict: {count} warning(s), so nothing was written",
            result.warnings + result.differences,
            result,
        )


def _verify(
    run: Run, generated: Generated, previous_head: str | None, result: Result, request: Request
) -> None:
    """Verify the new revision; a run that writes nothing reports a revision that fails as a warning,
    beside the operations it lists (a writing run refuses it)."""
    writes, staged = request.mode.writes, generated.staged_file
    shown = shown_path(run.staging.project_path(staged)) if writes and staged else "the pending revision"
    hint = NO_VERIFY_HINT if writes else CHECK_HINT
    try:
        verified = verify_new_revision(
            run.models_databases, run.history, generated, previous_head, hint, shown, request.use_cache
        )
    except RevisionFailedError as exc:
        if writes:
            raise
        result.warnings.append(Finding(str(exc), "verification_failed"))
        return
    result.differences = verified.differences
    result.warnings += verified.warnings  # what the rows showed that depends on the data
    result.locks = verified.locks
    result.warnings += lock_findings(verified.locks)  # the patterns that block production
    result.notes += [Advice(note) for note in verified.notes]


def _drift_written(
    run: Run, generated: Generated, previous_head: str | None, result: Result, request: Request
) -> Generated:
    """The revision generated again with the operations Alembic has for verification's differences
    (``revisions/drift.py``), and verified again: only a run that found such drift pays for it. An
    --empty revision stays empty: it is for a hand-written data migration."""
    drift = drift_operations(result.differences, generated, run.session.adapter.engines())
    if request.empty or not drift:
        return generated
    return _generated_again(run, generated, previous_head, result, request, drift)


def _safe_written(
    run: Run, generated: Generated, previous_head: str | None, result: Result, request: Request
) -> tuple[Generated, Request]:
    """Where verification measured locks that block production and the user, asked, wants the safe
    forms (a writing run at a terminal), the revision generated again with them (as ``--safe``) and
    verified again; the request is ``--safe``'s from then on."""
    blocking = of_locks(result.warnings)
    if request.safe or not blocking or not run.runtime.questioner.ask_safe_forms(blocking):
        return generated, request
    safe = replace(request, safe=True)
    return _generated_again(run, generated, previous_head, result, safe), safe


def _generated_again(
    run: Run,
    generated: Generated,
    previous_head: str | None,
    result: Result,
    request: Request,
    drift: "Drift | None" = None,
) -> Generated:
    """The shadow databases back at the previous head without the first attempt, the revision
    generated again (with ``drift``, and in the request's safe forms), and verified again."""
    history = run.history
    if generated.staged_file is not None:
        history.downgrade(previous_head or "base")
        generated.staged_file.unlink()
        history.reload()
    again = generate(
        history,
        request.title,
        request.empty,
        generated.revision or request.rev_id,
        drift,
        run.runtime.questioner,
        request.safe,
    )
    result.operations, result.script = again.operations, again.script
    result.warnings = again.warnings + _review(again)
    result.differences = []
    _verify(run, again, previous_head, result, request)
    return again


def _review(generated: Generated) -> list[str]:
    """Warnings about risky operations, per database; renames are shown the way the file is written
    (batch or not)."""
    found = []
    for engine in generated.engines:
        batch = bool(engine.context_opts.get("render_as_batch"))
        found += [engine.prefixed(warning) for warning in review(engine.upgrade_ops, engine.dialect, batch)]
    return found
