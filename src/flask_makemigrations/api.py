"""The tool's entry points: each one a session, a staging copy of the history, and one result."""

from dataclasses import dataclass, field
from pathlib import Path

from alembic.script.revision import Revision, RevisionError

from .cache import Built, upgrade_with_cache
from .errors import StrictError, UsageError
from .generation import generate
from .history import History
from .locking import migrations_lock
from .review import review
from .server_shadow import PruneResult, prune
from .session import Project, open_session
from .staging import Staging
from .stairway import Verified, check_history
from .verification import CHECK_HINT, NO_VERIFY_HINT, verify_new_revision


@dataclass
class Result:
    """What a run did, for the caller to print."""

    operations: list = field(default_factory=list)  # one line per detected operation
    warnings: list = field(default_factory=list)  # risky operations, failed post-write hooks
    differences: list = field(default_factory=list)  # models vs. migrated schema, beyond autogenerate
    revision: str | None = None
    path: Path | None = None  # the file written into the project, if any
    script: str | None = None  # the new revision's source (what --dry-run prints)
    built: Built | None = None  # how the shadow database reached head (None: it did not need to)


def make_migrations(
    project: Project,
    message: str | None = None,
    *,
    check: bool = False,
    dry_run: bool = False,
    empty: bool = False,
    rev_id: str | None = None,
    verify: bool = True,
    strict: bool = False,
    use_cache: bool = True,
) -> Result:
    """Autogenerate a revision against a shadow database at head, review and verify it, and write it
    unless check/dry_run (or ``strict`` and there is anything to warn about)."""
    _validate(message, check=check, dry_run=dry_run, empty=empty)
    _validate_rev_id(rev_id)
    writes = not (check or dry_run)
    opened = open_session(project, models_database=verify)  # the second database: for verification
    with opened as session, migrations_lock(session.directory, exclusive=writes):
        staging = Staging.copy(session.directory, session.shadow.workdir)
        history = History(session.extension, staging)
        _check_rev_id_is_new(rev_id, history)
        previous_head = history.single_head()
        built = None
        if verify or not empty:
            built = upgrade_with_cache(history, session.shadow, enabled=use_cache, progress=project.progress)
        generated = generate(history, (message or "").strip() or "pending changes", empty, rev_id)
        result = Result(
            operations=generated.operations,
            warnings=generated.warnings + _review(generated),
            revision=generated.revision,
            script=generated.script,
            built=built,
        )
        if verify:
            hint = NO_VERIFY_HINT if writes else CHECK_HINT
            result.differences = verify_new_revision(session, history, generated, previous_head, hint)
        if strict and (result.warnings or result.differences):
            count = len(result.warnings) + len(result.differences)
            raise StrictError(
                f"--strict: {count} warning(s), so nothing was written", result.warnings + result.differences
            )
        if writes and generated.staged_file:
            result.path = staging.publish(generated.staged_file)
        return result


def verify_history(project: Project) -> Verified:
    """Check the whole history on a shadow database: the stairway, the head against the models, base."""
    opened = open_session(project, models_database=True)
    with opened as session, migrations_lock(session.directory, exclusive=False):
        history = History(session.extension, Staging.copy(session.directory, session.shadow.workdir))
        return check_history(session, history, project.progress)


def merge_heads(project: Project, message: str | None = None, rev_id: str | None = None) -> Result:
    """Write a revision that merges every head, as ``flask db merge heads`` does."""
    _validate_rev_id(rev_id)
    with open_session(project) as session, migrations_lock(session.directory, exclusive=True):
        staging = Staging.copy(session.directory, session.shadow.workdir)
        history = History(session.extension, staging)
        _check_rev_id_is_new(rev_id, history)
        heads = history.script.get_heads()
        if len(heads) < 2:
            raise UsageError(f"nothing to merge: the history has {len(heads)} head(s)")
        with history.failures("broke the merge"), history.quiet():
            merged = history.merge(message or "merge heads", rev_id)
        (staged_file,) = staging.new_files()
        return Result(revision=merged.revision, path=staging.publish(staged_file))


def prune_shadow_databases(database: str | None) -> PruneResult:
    """Drop the server shadow databases that runs on this machine leaked (killed with SIGKILL)."""
    if not database or "://" not in database:
        raise UsageError("prune needs the server's URL: --database postgresql://user@host/dbname")
    return prune(database)


def _review(generated) -> list:
    """Warnings about risky operations; renames are shown the way the file is written (batch or not)."""
    batch = bool(generated.context_opts.get("render_as_batch"))
    return review(generated.upgrade_ops, generated.dialect, batch)


def _validate(message: str | None, *, check: bool, dry_run: bool, empty: bool) -> None:
    if check and dry_run:
        raise UsageError("--check and --dry-run cannot be combined")
    if empty and check:
        raise UsageError("--empty and --check cannot be combined")
    if not (check or dry_run) and not (message and message.strip()):
        raise UsageError('a message is required: --message "what changed"')


def _validate_rev_id(rev_id: str | None) -> None:
    """Alembic's own rule, and no path: the id starts the file name, in versions/ and nowhere else."""
    if rev_id is None:
        return
    if not rev_id.strip() or any(sep in rev_id for sep in ("/", "\\")):
        raise UsageError(f"--rev-id {rev_id!r}: a revision id cannot contain a path separator or be blank")
    try:
        Revision.verify_rev_id(rev_id)
    except RevisionError as exc:
        raise UsageError(f"--rev-id {rev_id!r}: {exc}") from None


def _check_rev_id_is_new(rev_id: str | None, history: History) -> None:
    if rev_id is not None and any(script.revision == rev_id for script in history.script.walk_revisions()):
        raise UsageError(f"--rev-id {rev_id!r}: revision {rev_id} already exists")
