"""Generate the new revision in the staging copy and hold it, with its operations, as a value.

Our own ``process_revision_directives`` (which Alembic runs before the one ``env.py`` configures)
records what autogenerate found. Whatever ``env.py``'s hook then does with an empty script, the
decision "no changes" is ours, so old templates behave like new ones.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Dialect

from ..compat import raised_by_post_write_hook
from ..described import Described
from ..errors import MigrationError
from . import operations
from .driver import History


@dataclass
class Generated:
    """What one generation produced, before anything reaches the project."""

    operations: list[str] = field(default_factory=list)
    staged_file: Path | None = None
    revision: str | None = None
    warnings: list[str] = field(default_factory=list)
    upgrade_ops: ops.UpgradeOps | None = None  # what autogenerate found, for the review
    context_opts: dict[str, Any] = field(default_factory=dict)  # env.py's context.configure() options
    dialect: Dialect | None = None

    @property
    def script(self) -> str | None:
        return self.staged_file.read_text() if self.staged_file else None


def generate(history: History, message: str, empty: bool = False, rev_id: str | None = None) -> Generated:
    """Autogenerate (or, with ``empty``, write a blank revision) on a shadow database at head."""
    captured: list[ops.MigrationScript] = []

    def capture(
        context: MigrationContext, revision: str | Iterable[str | None], directives: list[ops.MigrationScript]
    ) -> None:
        captured.extend(directives)
        result.context_opts, result.dialect = context.opts, context.dialect

    result = Generated()
    written = None
    with history.failures("broke revision generation"), history.quiet():
        try:
            written = history.revision(message, not empty, rev_id, capture)
        except Exception as exc:
            if not raised_by_post_write_hook(exc) or not history.staging.new_files():
                raise
            history.reload()  # Alembic stopped before it read the file it wrote
            text = (
                f"a post-write hook ({_hook_names(history)}) failed, so the revision is written "
                f"as generated: {' '.join(str(exc).split())}"
            )
            result.warnings.append(Described(text, "post_write_hook_failed", hooks=_hook_names(history)))

    if captured:
        result.upgrade_ops = captured[0].upgrade_ops
        # cast: Optional in Alembic's types, but when our hook runs (before env.py's) the script has
        # its UpgradeOps: autogenerate's, or the empty one of a blank revision.
        result.operations = operations.describe_all(cast(ops.UpgradeOps, result.upgrade_ops))
    if not result.operations and not empty:
        return result  # "No changes detected": whatever env.py let Alembic write stays in staging
    new_files = history.staging.new_files()
    if len(new_files) != 1:
        raise MigrationError(f"expected one new revision file, Alembic wrote {len(new_files)}")
    result.staged_file = new_files[0]
    result.revision = getattr(written, "revision", None) or captured[0].rev_id
    return result


def _hook_names(history: History) -> str:
    names = history.config().get_section_option("post_write_hooks", "hooks", "") or ""
    return ", ".join(n.strip() for n in names.split(",") if n.strip()) or "unnamed"
