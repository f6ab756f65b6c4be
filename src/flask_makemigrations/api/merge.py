"""``merge``: a revision that joins every head, as ``flask db merge heads`` writes it."""

from ..errors import UsageError
from ..request import check_rev_id
from ..run.run import open_run
from ..run.session import QUIET, Project, Runtime
from .makemigrations import Result
from .steps import check_rev_id_is_new


def merge_heads(
    project: Project, message: str | None = None, rev_id: str | None = None, runtime: Runtime = QUIET
) -> Result:
    """Write a revision that merges every head, as ``flask db merge heads`` does."""
    if rev_id is not None:
        check_rev_id(rev_id)
    with open_run(project, runtime, writes=True) as run:
        history = run.history
        check_rev_id_is_new(rev_id, history)
        heads = history.script.get_heads()
        if len(heads) < 2:
            raise UsageError(f"nothing to merge: the history has {len(heads)} head(s)")
        with history.failures("broke the merge"), history.quiet():
            merged = history.merge(message or "merge heads", rev_id)
        (staged_file,) = run.staging.new_files()
        return Result(revision=getattr(merged, "revision", None), path=run.publish(staged_file))
