"""The tool's entry points: each one a run (``run/run.py``) told as a few named steps, and one result."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from .cache.files import project_id, user_cache_dir
from .cache.postgresql_dumps import clear_dumps, dump_sets
from .cache.postgresql_templates import Template, cached_templates, clear_templates
from .cache.shadows import clear_cache
from .cache.sqlite_files import FileSnapshots
from .checks.branches import Against, check_against
from .checks.new_revision import CHECK_HINT, NO_VERIFY_HINT, Databases, Schemas, verify_new_revision
from .checks.review import review
from .checks.whole_history import Verified, check_history
from .errors import Advice, RevisionFailedError, StrictError, UnansweredQuestionError, UsageError, shown_path
from .findings import Finding
from .questioner import NOT_NULL_DEFAULT, Question
from .request import Request, check_rev_id
from .revisions.drift import drift_operations
from .revisions.driver import History
from .revisions.generation import Generated, generate
from .run.run import Built, Run, open_run
from .run.session import QUIET, Project, Runtime
from .run.signals import uninterrupted
from .shadow.backends import parse_database
from .shadow.backends.postgresql import PostgreSQL
from .shadow.backends.sqlite import SQLiteFile
from .shadow.server import PruneResult, ServerBackend, prune

if TYPE_CHECKING:  # squash's modules are imported by its run only (every other run would pay for them)
    from .checks.squashed import Proof


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


def make_migrations(project: Project, request: Request, runtime: Runtime = QUIET) -> Result:
    """Autogenerate a revision against a shadow database at head, review and verify it, and write it
    if the request's mode writes (and, with ``strict``, nothing is worth a warning)."""
    with open_run(project, runtime, request.mode.writes, request.use_cache) as run:
        _check_rev_id_is_new(request.rev_id, run.history)
        previous_head = run.history.single_head()
        against = _against(run, request.against)  # git's answer first: it costs no database work
        with run.migrating() as migrated:
            built = run.build_to_head() if request.verify or not request.empty else None
            generated = run.autogenerate(request.title, request.empty, request.rev_id)
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
    history = run.history
    if generated.staged_file is not None:  # back to the previous head, without the first attempt
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
    )
    result.operations, result.script = again.operations, again.script
    result.warnings = again.warnings + _review(again)
    result.differences = []
    _verify(run, again, previous_head, result, request)
    return again


def verify_history(project: Project, runtime: Runtime = QUIET, against: str | None = None) -> Verified:
    """Check the whole history on a shadow database: the stairway, the head against the models, base;
    with ``against`` (a git ref), the history merged with that ref's too."""
    with open_run(project, runtime) as run:
        merged = _against(run, against)
        with run.migrating() as migrated:
            made_while_loading = run.session.made_while_loading
            verified = check_history(run.models_databases, run.history, made_while_loading, runtime.progress)
        verified.notes, verified.against = run.notes + migrated + verified.notes, merged
        return verified


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
