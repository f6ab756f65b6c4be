"""``squash``: a run of revisions folded into one, proven on the shadow databases before any file
changes."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ..checks.new_revision import Databases, Schemas
from ..errors import Advice, UsageError
from ..revisions.generation import generate
from ..run.run import Run, open_run
from ..run.session import QUIET, Project, Runtime
from ..run.signals import uninterrupted

if TYPE_CHECKING:  # its modules are imported by its run only (every other run would pay for them)
    from ..checks.squashed import Proof


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
    from ..checks.squashed import prove_squash
    from ..revisions.squashing import squash_range
    from ..revisions.swap import check_removable, swap

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
