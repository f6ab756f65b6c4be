"""The tool's entry points: each one a run (``run/run.py``) told as a few named steps, and one result."""

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from .cache.files import project_id, user_cache_dir
from .cache.postgresql_dumps import clear_dumps, dump_sets
from .cache.postgresql_templates import Template, cached_templates, clear_templates
from .cache.shadows import clear_cache
from .cache.sqlite_files import FileSnapshots
from .checks.branches import Against, check_against
from .checks.locks.findings import lock_findings, of_locks
from .checks.locks.history import reported as lock_report
from .checks.locks.history import revisions_in, start_of
from .checks.locks.report import LockReport
from .checks.new_revision import CHECK_HINT, NO_VERIFY_HINT, Databases, Schemas, verify_new_revision
from .checks.review import review
from .checks.whole_history import Verified, check_history
from .errors import (
    Advice,
    RevisionFailedError,
    StrictError,
    UnansweredQuestionError,
    UsageError,
    VerificationError,
    on_disk,
    shown_path,
)
from .findings import Finding
from .questioner import NOT_NULL_DEFAULT, Question
from .request import Request, check_rev_id
from .revisions.drift import drift_operations
from .revisions.driver import History
from .revisions.generation import Generated, generate
from .revisions.staging import Staging
from .run.run import Built, Run, open_run
from .run.session import QUIET, Project, Runtime
from .run.signals import uninterrupted
from .shadow.backends import parse_database
from .shadow.backends.postgresql import PostgreSQL
from .shadow.backends.sqlite import SQLiteFile
from .shadow.server import PruneResult, ServerBackend, prune

if TYPE_CHECKING:  # squash's and rebase's modules are imported by their runs only (others would pay)
    from .checks.rebased import RebaseProof
    from .checks.squashed import Proof
    from .revisions.completion import Drift
    from .revisions.rebasing import Line, Moved


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
        _check_measured(project.database, "--safe")
    with open_run(project, runtime, request.mode.writes, request.use_cache) as run:
        _check_rev_id_is_new(request.rev_id, run.history)
        previous_head = run.history.single_head()
        against = _against(run, request.against)  # git's answer first: it costs no database work
        with run.migrating() as migrated:
            built = run.build_to_head() if request.verify or not request.empty else None
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


def verify_history(
    project: Project, runtime: Runtime = QUIET, against: str | None = None, locks: bool = False
) -> Verified:
    """Check the whole history on a shadow database: the stairway, the head against the models, base;
    with ``against`` (a git ref), the history merged with that ref's too; with ``locks``, what each
    revision locks (a PostgreSQL shadow database's, ``checks/locks/``)."""
    if locks:
        _check_measured(project.database, "verify --locks")
    with open_run(project, runtime) as run:
        merged = _against(run, against)
        with run.migrating() as migrated:
            made_while_loading = run.session.made_while_loading
            verified = check_history(
                run.models_databases, run.history, made_while_loading, runtime.progress, locks
            )
        verified.notes, verified.against = run.notes + migrated + verified.notes, merged
        return verified


def revision_locks(
    project: Project, revisions: str | None = None, runtime: Runtime = QUIET
) -> list[LockReport]:
    """What existing revisions lock on a PostgreSQL shadow database (``locks``): the history applied up
    to the first one's parents, then each of ``revisions`` (one, ``START:END``, or the head) measured
    as it goes up."""
    _check_measured(project.database, "locks")
    with open_run(project, runtime) as run, run.migrating():
        history = run.history
        scripts = revisions_in(history, revisions)
        for parent in start_of(scripts):
            history.upgrade(parent, runtime.progress)
        databases = Databases.of(history)
        reports = []
        for script in scripts:
            report = lock_report(history, script)
            with databases.measured(report, {}):
                history.upgrade(script.revision)
            reports.append(report)
        return reports


def _against(run: Run, ref: str | None) -> Against | None:
    """The run's history merged with the one the git ref ``ref`` has, if one was given."""
    return None if ref is None else check_against(run.history, run.session.shadow.workdir / "against", ref)


def merge_heads(
    project: Project, message: str | None = None, rev_id: str | None = None, runtime: Runtime = QUIET
) -> Result:
    """Write a revision that merges every head, as ``flask db merge heads`` does."""
    if rev_id is not None:
        check_rev_id(rev_id)
    with open_run(project, runtime, writes=True) as run:
        history = run.history
        _check_rev_id_is_new(rev_id, history)
        heads = history.script.get_heads()
        if len(heads) < 2:
            raise UsageError(f"nothing to merge: the history has {len(heads)} head(s)")
        with history.failures("broke the merge"), history.quiet():
            merged = history.merge(message or "merge heads", rev_id)
        (staged_file,) = run.staging.new_files()
        return Result(revision=getattr(merged, "revision", None), path=run.publish(staged_file))


@dataclass
class Squashed:
    """What ``squash`` did (or, with ``dry_run``, would do), for the caller to print."""

    revision: str  # the head's id, which the squashed revision keeps
    since: str | None  # its parent (None: base)
    folded: list[Path]  # the files it replaces: removed, or with dry_run to be removed
    proof: "Proof"
    path: Path | None = None  # the squashed revision, once written
    backup: Path | None = None  # where copies of the removed files are (outside git)
    script: str | None = None  # the squashed revision's source (what --dry-run prints)
    notes: list[Advice] = field(default_factory=list)


def squash_history(
    project: Project,
    message: str,
    since: str | None = None,
    dry_run: bool = False,
    use_cache: bool = True,
    runtime: Runtime = QUIET,
) -> Squashed:
    """Replace the revisions after ``since`` up to the head by one, proven on the shadow databases to
    build the same schema both ways before any file changes (``checks/squashed.py``)."""
    from .checks.squashed import prove_squash
    from .revisions.squashing import squash_range
    from .revisions.swap import check_removable, swap

    if not message.strip():
        raise UsageError('a message is required: --message "what the squash folds"')
    with open_run(project, runtime, writes=not dry_run, use_cache=use_cache) as run:
        span = squash_range(run.history, since)
        needs_backup = check_removable(span.files)  # refused before the work, dry run or not
        with run.migrating():
            old = _old_schemas(run)
            squashed = run.without(span.files)
            run.build_to_head(squashed, show_progress=False)
            generated = generate(squashed, message, rev_id=span.head)
            if generated.staged_file is None:  # the range changes nothing in the end: a blank revision
                generated = generate(squashed, message, empty=True, rev_id=span.head)
            proof = prove_squash(run.models_databases, squashed, generated, span, old, use_cache)
        result = Squashed(span.head, span.since, span.files, proof, notes=run.notes)
        if dry_run:
            result.script = generated.script
            return result
        check_removable(span.files)  # once more: git's state may have changed during the proof
        with uninterrupted():
            swapped = swap(squashed.staging, cast(Path, generated.staged_file), span.files, needs_backup)
        result.path, result.backup = swapped.path, swapped.backup
        return result


def _old_schemas(run: Run) -> Schemas:
    """The old history at head, checked to leave the models nothing to add; its schemas, then the
    shadow databases emptied for the squashed history."""
    history = run.history
    run.build_to_head()
    if history.multidb:
        raise UsageError("squash folds the history of a single-database env.py only")
    pending = generate(history, "pending changes")
    if pending.operations:
        raise UsageError(
            f"the models have changes no revision covers ({', '.join(pending.operations)}): squash what "
            "the history builds; run makemigrations first"
        )
    old = Databases.of(history, pending).snapshot()
    run.empty_shadows()
    return old


@dataclass(frozen=True)
class Regenerated:
    """This branch's revisions replaced by one generated against the target's head, where they no
    longer applied after it: what they did, and what the new one does."""

    revision: str  # the id of this branch's head, which the new revision keeps
    reason: str  # why the rebase was not proven
    replaced: list[Path]  # this branch's revision files: removed, or with dry_run to be removed
    old_operations: list[str]  # their upgrades' statements, as written
    operations: list[str]  # the new revision's operations, one line each
    script: str  # the new revision's source (what --dry-run prints)
    path: Path | None = None  # the new revision, once written


@dataclass
class Rebased:
    """What ``rebase`` did (or, with ``dry_run``, would do), for the caller to print."""

    ref: str
    onto: str | None  # the ref's head, which this branch's revisions now follow
    nothing: str | None = None  # why there was nothing to do (then nothing else is set)
    moved: list["Moved"] = field(default_factory=list)  # this branch's revisions, oldest first
    proof: "RebaseProof | None" = None
    regenerated: Regenerated | None = None  # the proof failed, and they were replaced by one
    diff: list[str] = field(default_factory=list)  # with dry_run: what the rewrite would change
    backup: Path | None = None  # where copies of removed files are (files git could not give back)
    notes: list[Advice] = field(default_factory=list)


def rebase_onto(
    project: Project, onto: str, dry_run: bool = False, use_cache: bool = True, runtime: Runtime = QUIET
) -> Rebased:
    """Move this branch's revisions (those the git ref ``onto`` lacks) to follow the ref's head:
    rewritten in the run's folder (``revisions/rebasing.py``) and proven on the shadow databases
    (``checks/rebased.py``) before any file changes; where the proof fails, replaced by one revision
    generated against that head if the runtime's questioner says so."""
    from .checks.branches import merged_with
    from .checks.rebased import prove_rebase
    from .revisions.rebasing import ONTO, line_to_move, unapplied_note

    if not onto.strip():
        raise UsageError(
            "rebase needs --onto REF: the git ref whose head this branch's revisions are to follow "
            "(e.g. origin/main)"
        )
    with open_run(project, runtime, writes=not dry_run, use_cache=use_cache) as run:
        merged = merged_with(run.history, run.session.shadow.workdir / "onto", onto, ONTO)
        line = line_to_move(merged)
        if not line.revisions:
            return Rebased(onto, line.onto, line.nothing, notes=run.notes)
        rebased = run.without(line.files, merged.target, known_headers=True)
        with run.migrating():
            run.build_to_head(rebased, show_progress=False)
            staged = _staged_rewrites(rebased, line)
            try:
                proof = prove_rebase(run.models_databases, rebased, line, use_cache)
            except VerificationError as failure:
                merged_in = merged.target is None  # the working tree has every revision of the ref
                return _regenerated(run, rebased, line, str(failure), dry_run, merged_in)
        done = Rebased(
            onto, line.onto, moved=line.moved(), proof=proof, notes=[*run.notes, unapplied_note(line)]
        )
        if dry_run:
            done.diff = _rewrite_diff(staged)
        else:
            done.backup = _publish_rewrites(rebased.staging, staged)
        return done


#: A revision of this branch whose file a rebase rewrites, and its rewritten copy in the run's folder.
_Rewrite = tuple["Moved", Path]


def _staged_rewrites(rebased: History, line: "Line") -> list[_Rewrite]:
    """This branch's revisions put back among the rebased history's copies (which then holds them
    after the target's head): those whose parent changes rewritten, the others as they are. Returns
    the rewritten ones."""
    from .revisions.rebasing import rewritten

    staged = []
    for moved in line.moved():
        source = moved.old_path.read_bytes()
        copy = rebased.staging.copy_path(moved.path)
        changed = moved.old_parent != moved.new_parent
        if changed:
            source = rewritten(source, shown_path(moved.old_path), moved.old_parent, moved.new_parent)
            staged.append((moved, copy))
        with on_disk("writing the rebased revisions to the run's folder"):
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(source)
    rebased.reload()
    return staged


def _rewrite_diff(staged: list[_Rewrite]) -> list[str]:
    """What the rewrite changes, file by file (``--dry-run``)."""
    from .revisions.rebasing import diff

    return [
        line
        for moved, copy in staged
        for line in diff(moved.old_path.read_bytes(), copy.read_bytes(), moved.old_path, moved.path)
    ]


def _publish_rewrites(staging: Staging, staged: list[_Rewrite]) -> Path | None:
    """The rewritten files into the project, each in one step: a file of the same name replaced in
    place; a renamed one through the squash's swap, the old file removed under its journal (and
    copied first where git could not give it back). Returns where the copies are, if any."""
    from .revisions.swap import needs_backup, swap

    renamed = {
        moved.old_path: needs_backup([moved.old_path]) for moved, _ in staged if moved.path != moved.old_path
    }
    backup = None
    with uninterrupted():
        for moved, copy in staged:
            if moved.old_path in renamed:
                backup = (
                    swap(staging, copy, [moved.old_path], renamed[moved.old_path], "rebase").backup or backup
                )
            else:
                staging.publish(copy, replace=True)
    return backup


def _regenerated(
    run: Run, rebased: History, line: "Line", reason: str, dry_run: bool, merged_in: bool
) -> Rebased:
    """The proof failed: with the questioner's yes, this branch's revisions replaced by one generated
    against the target's head (the head's id and message), verified as a new revision. Only once the
    target is merged in (``merged_in``): generating compares with the working tree's models, which
    lack the target's changes before, and the new revision would take them back."""
    from .questioner import REGENERATE, REGENERATE_OPTION, regenerate_question
    from .revisions.rebasing import unapplied_note, upgrade_statements
    from .revisions.swap import needs_backup, swap

    ref, onto = line.ref, str(line.onto)
    if not merged_in:
        raise VerificationError(
            f"the rebase is not proven: {reason}; merge {ref} into this branch first (its models too), then "
            f"rebase again: only then can this branch's revisions be generated anew against {ref}'s head; "
            "nothing was changed"
        )
    answer = run.runtime.questioner.ask_regenerate(ref, onto, reason)
    if answer is None:
        question = Question(REGENERATE, regenerate_question(ref, onto, reason), REGENERATE_OPTION)
        raise UnansweredQuestionError(
            f"this branch's revisions do not apply after {ref}'s head {onto}: {reason}; {REGENERATE_OPTION} "
            "replaces them by one revision generated against it; nothing was changed",
            [question],
        )
    if not answer:
        raise VerificationError(f"the rebase is not proven: {reason}; nothing was changed")
    generated = _generated_at_target(run, rebased, line)
    old = [statement for path in line.files for statement in upgrade_statements(path.read_bytes())]
    done = Regenerated(
        line.head.revision, reason, line.files, old, generated.operations, generated.script or ""
    )
    result = Rebased(ref, onto, regenerated=done, notes=[*run.notes, unapplied_note(line)])
    if not dry_run:
        backup = needs_backup(line.files)
        with uninterrupted():
            swapped = swap(rebased.staging, cast(Path, generated.staged_file), line.files, backup, "rebase")
        result.regenerated = replace(done, path=swapped.path)
        result.backup = swapped.backup
    return result


def _generated_at_target(run: Run, rebased: History, line: "Line") -> Generated:
    """The rewritten revisions taken out again, the shadow databases built anew at the target's head,
    and one revision generated there with the id and message of this branch's head, verified."""
    from .checks.squashed import NOTHING_CHANGED

    own = [rebased.staging.copy_path(moved.path) for moved in line.moved()]
    for leftover in [*own, *rebased.staging.new_files()]:  # new files: the proof's check may leave one
        leftover.unlink(missing_ok=True)
    rebased.reload()
    run.empty_shadows()
    run.build_to_head(rebased, show_progress=False)
    head = line.head
    generated = generate(rebased, head.doc, rev_id=head.revision, questioner=run.runtime.questioner)
    if generated.staged_file is None:  # what they did, the target's head has already: a blank revision
        generated = generate(rebased, head.doc, empty=True, rev_id=head.revision)
    shown = shown_path(rebased.staging.project_path(cast(Path, generated.staged_file)))
    verified = verify_new_revision(
        run.models_databases, rebased, generated, line.onto, NOTHING_CHANGED, shown, run.use_cache
    )
    if verified.differences:
        raise VerificationError(
            f"the revision generated against {line.ref}'s head {line.onto} differs from the models: "
            f"{'; '.join(verified.differences)}; nothing was changed"
        )
    return generated


def prune_shadow_databases(database: str | None) -> PruneResult:
    """Drop the server shadow databases that runs on this machine leaked (killed with SIGKILL)."""
    backend = parse_database(database)
    if not isinstance(backend, ServerBackend):
        raise UsageError("prune needs the server's URL: --database postgresql://user@host/dbname")
    return prune(backend)


@dataclass
class CacheState:
    """Where the snapshots are, for ``cache``: this project's files, and a server's templates."""

    folder: Path  # the user's cache folder
    project_folder: Path  # this project's snapshot files, in it
    snapshot_sets: int
    dump_sets: int  # this project's portable PostgreSQL snapshots, in the same folder
    server: str | None = None  # the --database server (password hidden), if one was given
    templates: list[Template] = field(default_factory=list)  # the templates cached there, of any project


def cache_state(directory: str | None = None, database: str | None = None) -> CacheState:
    """What the cache holds for the project whose migrations are in ``directory`` (./migrations)."""
    migrations_dir = Path(directory or "migrations")
    if not migrations_dir.is_dir():
        shown = shown_path(migrations_dir)
        raise UsageError(f"{shown} does not exist: pass the migrations directory with --directory")
    files = FileSnapshots.of_project(project_id(migrations_dir.absolute()), SQLiteFile())
    state = CacheState(user_cache_dir(), files.folder, len(files.keys_by_recency()), dump_sets(files.folder))
    if database is not None:
        backend = _template_server(database)
        state.server = backend.url.render_as_string(hide_password=True)
        state.templates = cached_templates(backend)
    return state


def clear_snapshots(database: str | None = None) -> list[tuple[int, str]]:
    """Remove every snapshot of every project: the files, or with ``database`` the server's templates
    and the portable PostgreSQL snapshots in the cache folder (which would restore them); return how
    many sets there were, and where."""
    if database is None:
        return [(clear_cache(), str(user_cache_dir()))]
    backend = _template_server(database)
    templates = clear_templates(backend), backend.url.render_as_string(hide_password=True)
    return [templates, (clear_dumps(), str(user_cache_dir()))]


def _check_measured(database: str | None, option: str) -> None:
    """What a revision locks is measured on PostgreSQL only: ``option`` needs such a shadow database."""
    if not isinstance(parse_database(database), PostgreSQL):
        raise UsageError(
            f"{option}: the lock report is PostgreSQL's; give --database a PostgreSQL server's URL "
            "(postgresql://user:password@host/dbname)"
        )


def _template_server(database: str) -> PostgreSQL:
    backend = parse_database(database)
    if not isinstance(backend, PostgreSQL):
        raise UsageError("cache --database: only a PostgreSQL server keeps snapshots (postgresql://...)")
    return backend


def _review(generated: Generated) -> list[str]:
    """Warnings about risky operations, per database; renames are shown the way the file is written
    (batch or not)."""
    found = []
    for engine in generated.engines:
        batch = bool(engine.context_opts.get("render_as_batch"))
        found += [engine.prefixed(warning) for warning in review(engine.upgrade_ops, engine.dialect, batch)]
    return found


def _check_rev_id_is_new(rev_id: str | None, history: History) -> None:
    if rev_id is not None and any(script.revision == rev_id for script in history.script.walk_revisions()):
        raise UsageError(f"--rev-id {rev_id!r}: revision {rev_id} already exists")
