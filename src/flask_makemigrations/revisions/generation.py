"""Generate the new revision in the staging copy and hold it, with its operations, as a value.

Our own ``process_revision_directives`` (which Alembic runs before the one ``env.py`` configures)
records what autogenerate found. Whatever ``env.py``'s hook then does with an empty script, the
decision "no changes" is ours, so old templates behave like new ones.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Dialect

from ..compat import raised_by_post_write_hook
from ..errors import MigrationError
from ..findings import Finding, in_bind
from ..questioner import ANSWER_DEFAULTS, Question, Questioner
from . import operations
from .completion import Drift, complete
from .driver import SINGLE_DATABASE_TOKEN, History, bind_of_token, upgrade_token


@dataclass
class EngineChanges:
    """What autogenerate found on one database: a multi-database ``env.py`` runs it once per bind."""

    bind: str | None  # None: the main database
    upgrade_ops: ops.UpgradeOps
    context_opts: dict[str, Any]  # env.py's context.configure() options for this engine
    dialect: Dialect
    multidb: bool = False  # several engines: its lines name the bind

    def prefixed(self, line: str) -> str:
        """``line`` as the user reads it: a bind's, in a multi-database revision, names the bind."""
        return in_bind(line, self.bind) if self.multidb and self.bind else line


@dataclass
class Generated:
    """What one generation produced, before anything reaches the project."""

    operations: list[str] = field(default_factory=list)
    staged_file: Path | None = None
    revision: str | None = None
    warnings: list[str] = field(default_factory=list)
    engines: list[EngineChanges] = field(default_factory=list)  # what autogenerate found, per engine
    questions: list[Question] = field(default_factory=list)  # what no one answered (``answers.py``)

    @property
    def script(self) -> str | None:
        return self.staged_file.read_text() if self.staged_file else None


def generate(
    history: History,
    message: str,
    empty: bool = False,
    rev_id: str | None = None,
    drift: Drift | None = None,
    questioner: Questioner = ANSWER_DEFAULTS,
    safe: bool = False,
) -> Generated:
    """Autogenerate (or, with ``empty``, write a blank revision) on a shadow database at head; with
    ``drift``, the operations for what verification found and autogenerate did not see, after its own;
    what autogenerate cannot know asked of ``questioner``; with ``safe``, the operations in the forms
    that do not block production (``safe_forms.py``)."""
    captured: list[ops.MigrationScript] = []
    # By upgrade token: env.py configures each engine in turn, updating one dict of options in place.
    contexts: dict[str, tuple[dict[str, Any], Dialect]] = {}
    engine_warnings: dict[str, list[Finding]] = {}
    questions: list[Question] = []

    def capture(
        context: MigrationContext, revision: str | Iterable[str | None], directives: list[ops.MigrationScript]
    ) -> None:
        captured.extend(directives)
        token = upgrade_token(context)
        contexts[token] = (dict(context.opts), context.dialect)
        drifted = (drift or {}).get(bind_of_token(token), [])
        completed = complete(context, directives, drifted, questioner, safe)
        engine_warnings[token] = completed.findings
        questions.extend(completed.questions)

    result = Generated(questions=questions)
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
            result.warnings.append(Finding(text, "post_write_hook_failed", hooks=_hook_names(history)))

    if captured:
        result.engines = _per_engine(captured[0], contexts)
        for engine in result.engines:
            result.operations += [
                engine.prefixed(line) for line in operations.describe_all(engine.upgrade_ops, engine.dialect)
            ]
            result.warnings += [
                engine.prefixed(line) for line in engine_warnings.get(engine.upgrade_ops.upgrade_token, [])
            ]
    if not result.operations and not empty:
        return result  # "No changes detected": whatever env.py let Alembic write stays in staging
    new_files = history.staging.new_files()
    if len(new_files) != 1:
        raise MigrationError(f"expected one new revision file, Alembic wrote {len(new_files)}")
    result.staged_file = new_files[0]
    result.revision = getattr(written, "revision", None) or captured[0].rev_id
    return result


def _per_engine(
    script: ops.MigrationScript, contexts: dict[str, tuple[dict[str, Any], Dialect]]
) -> list[EngineChanges]:
    """The script's operations, one list per engine, with the options env.py gave that engine."""
    # When our hook runs (before env.py's), the script has its UpgradeOps: autogenerate's, or the
    # empty one of a blank revision.
    multidb = list(contexts) != [SINGLE_DATABASE_TOKEN]
    engines = []
    for upgrade_ops in script.upgrade_ops_list:
        token = upgrade_ops.upgrade_token
        if token in contexts:
            opts, dialect = contexts[token]
            engines.append(EngineChanges(bind_of_token(token), upgrade_ops, opts, dialect, multidb))
    return engines


def _hook_names(history: History) -> str:
    names = history.config().get_section_option("post_write_hooks", "hooks", "") or ""
    return ", ".join(n.strip() for n in names.split(",") if n.strip()) or "unnamed"
