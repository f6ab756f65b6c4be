"""The migration history through Alembic's own API: configuration, heads, upgrade, downgrade.

Library exceptions are caught here, where it is known what was being attempted, and re-raised as
one-line errors that name the revision file and the database's own message.
"""

import configparser
import io
import os
import re
import traceback
from argparse import Namespace
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from alembic import util as alembic_util
from alembic.autogenerate import RevisionContext
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, RevisionStep
from alembic.script import Script, ScriptDirectory
from sqlalchemy.exc import DBAPIError

from ..cache.headers import RevisionHeaders
from ..compat import (
    ALEMBIC_HAS_QUIET,
    alembic_option,
    downgrade_steps,
    every_revision,
    revision_command_arguments,
    revision_files_loaded_by,
    upgrade_steps,
)
from ..errors import (
    AppExitError,
    MigrationError,
    MultipleHeadsError,
    NextStep,
    exit_call,
    foreign_failures,
    shown_path,
)
from .staging import Staging

if TYPE_CHECKING:  # annotations only (the run package imports this one)
    from alembic.runtime.environment import ProcessRevisionDirectiveFn

    from ..run.adapter import ProjectAdapter

_Step = TypeVar("_Step")
#: Alembic's callback for a migration: the database's heads -> the steps to run.
_Steps = Callable[[tuple[str, ...], MigrationContext], Iterable[RevisionStep]]

#: Told ``(done, total)`` as a long piece of work advances, for a front end to show.
Progress = Callable[[int, int], None]

#: Words Alembic reads as symbols wherever it takes a revision, never as an id.
SYMBOLS = ("base", "head", "heads", "current")
# What Alembic's revision syntax gives a meaning: branch@rev, rev+1/rev-2, ranges (a:b, a..b).
_SYNTAX = re.compile(r"[@:+]|-\d|\.\.")


def unusable_rev_id(rev_id: str) -> str | None:
    """Why Alembic could not address a revision by this id (it would misread it), or None.

    Such an id is written to a file without complaint, and from then on every command that names a
    revision crashes; a leading dot also makes the file hidden.
    """
    if not rev_id.strip() or any(sep in rev_id for sep in ("/", "\\")):
        return "a revision id cannot contain a path separator or be blank"
    if rev_id in SYMBOLS:
        return f"{rev_id!r} is one of Alembic's symbols ({', '.join(SYMBOLS)}), not an id"
    if rev_id.startswith(".") or _SYNTAX.search(rev_id):
        return (
            "a revision id cannot start with '.' or contain '@', ':', '+', '..' or '-' before a digit, "
            "which Alembic's revision syntax reads as branches, ranges and relative steps"
        )
    return None


#: The upgrade token Alembic gives the one engine of a single-database ``env.py``.
SINGLE_DATABASE_TOKEN = "upgrades"


def upgrade_token(context: MigrationContext) -> str:
    """The upgrade token ``env.py`` configured the context with (one per engine it migrates)."""
    return str(context.opts.get("upgrade_token") or SINGLE_DATABASE_TOKEN)


def bind_of_token(upgrade_token: str) -> str | None:
    """The bind an engine of ``env.py`` migrates, by its upgrade token: Flask-Migrate's multi-database
    ``env.py`` names them ``<bind>_upgrades`` (``_upgrades`` for the main database), which is how its
    ``script.py.mako`` writes ``upgrade_<bind>()``; None is the main database."""
    if upgrade_token == SINGLE_DATABASE_TOKEN:
        return None
    return upgrade_token.removesuffix("_upgrades") or None


def docstring_safe(message: str) -> str:
    """``message`` as it can stand inside the template's triple-quoted docstring and read back intact.

    Backslashes are doubled (``C:\\Users`` would be an escape error) and quotes that would close the
    docstring are escaped; the revision's file name, made of the message's words, does not change.
    """
    escaped = message.replace("\\", "\\\\")
    while '"""' in escaped:
        escaped = escaped.replace('"""', '""\\"')
    return escaped


def option_value(text: str) -> str:
    """``text`` as an Alembic option's value: options go through ConfigParser, where a '%' (of a path
    such as ``/tmp/100%``) would start an interpolation, "invalid interpolation syntax"."""
    return text.replace("%", "%%")


class History:
    """One migrations directory (its staging copy) driven in-process by Alembic commands.

    With ``headers``, the files whose header is known by their bytes are placed in the graph without
    being imported, until a migration needs them (``headers``); without, every file is imported.
    """

    def __init__(self, adapter: "ProjectAdapter", staging: Staging, headers: RevisionHeaders | None = None):
        self.adapter = adapter
        self.staging = staging
        self.headers = headers
        self.version_table = "alembic_version"
        #: The upgrade token of each engine env.py migrated on its last run, in its order (none yet).
        self.tokens: list[str] = []
        #: Told, as an upgrade or downgrade begins on each database, by bind key (None: the main one),
        #: the context env.py configured there: its options are known from then on.
        self.configured: Callable[[str | None, MigrationContext], None] | None = None
        self.script = self._load_scripts()

    def config(self, autogenerate: bool = False) -> Config:
        """The project's config (with Flask-Migrate, its ``Migrate.configure`` callbacks applied) for
        the staging copy."""
        config = self.adapter.alembic_config(self.staging.staged_dir, autogenerate)
        # Alembic's "Generating <staging path>" would only confuse; see quiet().
        cast("Namespace", config.cmd_opts).quiet = True
        # The project's revisions are read where they are; new ones are written to the staging folder.
        locations = [*self.staging.version_locations, self.staging.versions]
        config.set_main_option("version_locations", option_value(os.pathsep.join(map(str, locations))))
        config.set_main_option("path_separator", "os")  # Alembic 1.16 and later
        config.set_main_option("version_path_separator", "os")  # earlier ones
        return config

    def _load_scripts(self) -> ScriptDirectory:
        """Read every revision file now, so a broken one is reported before any database work."""
        with self.failures("cannot be loaded"), self._loading():
            script = ScriptDirectory.from_config(self.config())
            script.revision_map.heads  # noqa: B018  (forces every file to be loaded)
        if self.headers is not None:
            self.headers.save()
        for revision in every_revision(script):
            problem = unusable_rev_id(revision.revision)
            if problem:
                shown = shown_path(self.staging.project_path(revision.path))
                raise MigrationError(
                    f"revision {revision.revision!r} ({shown}) cannot be used: {problem}; rename it "
                    "(its file, its 'revision' and every 'down_revision' naming it)"
                )
        return script

    def _loading(self) -> AbstractContextManager[None]:
        return nullcontext() if self.headers is None else revision_files_loaded_by(self.headers.load)

    def single_head(self) -> str | None:
        heads = self.script.get_heads()
        if len(heads) > 1:
            raise MultipleHeadsError(
                f"the history has several heads ({', '.join(sorted(heads))}); merge them first with "
                "{command} (or 'flask db merge heads')",
                next_step=NextStep.MERGE,
            )
        return heads[0] if heads else None

    def upgrade(self, revision: str = "heads", progress: Progress | None = None) -> int:
        """Apply what the databases lack up to ``revision``; return how many revisions that was (the
        most any one database needed: a multi-database env.py migrates each in turn)."""
        with self.failures("failed to apply"):
            return self._migrate(
                revision, lambda current, context: upgrade_steps(self.script, revision, current), progress
            )

    def downgrade(self, revision: str) -> None:
        with self.failures("failed to downgrade"):
            self._migrate(revision, lambda current, context: downgrade_steps(self.script, revision, current))

    def _migrate(self, destination: str, steps: _Steps, progress: Progress | None = None) -> int:
        """What ``alembic.command.upgrade``/``downgrade`` do, on the revision files already loaded.

        Those commands read every file again; verification runs several of them per revision, so a
        long history would be read hundreds of times.
        """
        planned: dict[str, int] = {}  # steps per engine (a multi-database env.py migrates several)
        self.tokens = []

        def counted(current: tuple[str, ...], context: MigrationContext) -> Iterable[RevisionStep]:
            found = list(steps(current, context))
            token = upgrade_token(context)
            self.tokens.append(token)  # known as soon as env.py configured it, even if a step fails
            if self.configured is not None:
                self.configured(bind_of_token(token), context)
            planned[token] = len(found)
            return reported(found, progress if len(planned) == 1 else None)

        with EnvironmentContext(self.config(), self.script, fn=counted, destination_rev=destination) as env:
            self.script.run_env()
        self.version_table = env.get_context().version_table  # env.py may have chosen its own
        return max(planned.values(), default=0)

    @property
    def multidb(self) -> bool:
        """Whether env.py is a multi-database one (``flask db init --multidb``), as its last run showed."""
        return bool(self.tokens) and self.tokens != [SINGLE_DATABASE_TOKEN]

    @property
    def migrated(self) -> list[str | None]:
        """The databases env.py migrated on its last run, by bind key (None: the main database)."""
        return [bind_of_token(token) for token in self.tokens or [SINGLE_DATABASE_TOKEN]]

    def revision(
        self,
        message: str,
        autogenerate: bool,
        rev_id: str | None,
        process_revision_directives: "ProcessRevisionDirectiveFn",
    ) -> Script | None:
        """What ``alembic.command.revision`` does, on the revision files already loaded (the command
        reads every one again: a second of a long history's build), writing to the staging folder.

        The new revision joins the loaded ones, so the verification can apply it. Returns None when
        env.py's hook dropped the empty script ("No changes detected").
        """
        config = self.config(autogenerate=autogenerate)
        arguments = revision_command_arguments(
            docstring_safe(message), autogenerate, rev_id, str(self.staging.versions)
        )
        context = RevisionContext(config, self.script, arguments, process_revision_directives)
        if autogenerate or _runs_environment(config):
            run = context.run_autogenerate if autogenerate else context.run_no_autogenerate

            def retrieve(
                revision: tuple[str, ...], migration_context: MigrationContext
            ) -> list[RevisionStep]:
                run(revision, migration_context)
                return []

            with EnvironmentContext(
                config,
                self.script,
                fn=retrieve,
                template_args=context.template_args,
                revision_context=context,
            ):
                self.script.run_env()
        written = list(context.generate_scripts())
        return written[0] if written else None

    def merge(self, message: str, rev_id: str | None) -> Script | None:
        """What ``alembic.command.merge`` does, writing to the staging folder (the command itself
        would put the file beside the heads, in the project)."""
        return self.script.generate_revision(
            rev_id or alembic_util.rev_id(),
            docstring_safe(message),
            refresh=True,
            head="heads",
            version_path=str(self.staging.versions),
            config=self.config(),
        )

    def reload(self) -> None:
        """Read the files again once a revision was added, so failures can name it."""
        self.script = self._load_scripts()

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Around a command that writes a file: no "Generating <staging path>", on any Alembic."""
        if ALEMBIC_HAS_QUIET:
            yield
            return
        with redirect_stdout(io.StringIO()):
            yield

    def failures(self, what: str) -> AbstractContextManager[None]:
        """Name the revision file a failure came from and keep the database's own words."""
        return foreign_failures(
            lambda exc: AppExitError(f"{self._culprit(exc)} {what}: it called {exit_call(exc)}"),
            lambda exc: MigrationError(f"{self._culprit(exc)} {what}: {_reason(exc)}"),
        )

    def _culprit(self, exc: BaseException) -> str:
        folders = {self.staging.staged_dir.resolve(), self.staging.versions.resolve()}
        folders.update(location.resolve() for location in self.staging.version_locations)
        paths = [frame.filename for frame in traceback.extract_tb(exc.__traceback__)]
        if isinstance(exc, SyntaxError) and exc.filename:
            paths.append(exc.filename)
        for found in reversed(paths):
            path = Path(found).resolve()
            if path.parent == self.staging.versions.resolve():  # never written, so no file to name
                revision = _revision_of(self.script if hasattr(self, "script") else None, path)
                return f"the pending revision {revision}" if revision else "the pending revision"
            if folders.intersection(path.parents):
                shown = shown_path(self.staging.project_path(path))
                revision = _revision_of(self.script if hasattr(self, "script") else None, path)
                return f"revision {revision} ({shown})" if revision else f"{shown}"
        return "the migration environment"


def _from_config_parser(exc: BaseException) -> bool:
    """Whether ConfigParser raised ``exc`` reading or setting an option: a '%' not doubled
    (``ValueError`` from ``set``, ``InterpolationError`` from ``get``)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return isinstance(exc, configparser.InterpolationError) or (
        isinstance(exc, ValueError) and bool(frames) and frames[-1].filename == configparser.__file__
    )


def _runs_environment(config: Config) -> bool:
    """Whether a revision without autogenerate runs env.py, as the project configured it."""
    return alembic_util.asbool(alembic_option(config, "revision_environment"))


def reported(steps: list[_Step], progress: Progress | None) -> Iterable[_Step]:
    """``steps`` handed out one at a time, telling ``progress`` how many were taken before each
    and when all are done; a consumer that works on each as it takes it (Alembic does) is that far."""
    if progress is None:
        return steps
    return _reporting(steps, progress)


def _reporting(steps: list[_Step], progress: Progress) -> Iterator[_Step]:
    for done, step in enumerate(steps):
        progress(done, len(steps))
        yield step
    progress(len(steps), len(steps))


def _revision_of(script: ScriptDirectory | None, path: Path) -> str | None:
    if script is None:
        return None
    for revision in script.walk_revisions():
        if isinstance(revision, Script) and Path(revision.path).resolve() == path:
            return revision.revision
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig)
    if _from_config_parser(exc):
        return (
            f"{type(exc).__name__}: {exc}; a '%' in a value of Alembic's config must be doubled: "
            "Flask-Migrate 2.0's env.py gives it the app's URL as it is, where a password that a URL "
            "quotes leaves a '%' (write .replace('%', '%%') after it, as later env.py do)"
        )
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}" + (f" ({shown_path(exc.filename)})" if exc.filename else "")
    return f"{type(exc).__name__}: {exc}"
