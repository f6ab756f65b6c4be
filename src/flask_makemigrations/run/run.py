"""One run of the tool on a project: the prologue every entry point shares, and the steps they compose.

Every entry point opens the same way: the session (``session``: guard, shadow databases, the app
loaded), the migrations directory locked (exclusively for a run that writes), its staging copy made,
its history read; it applies the history with the errors that mean the app or ``env.py`` is set up
wrong told as such, builds the shadow databases to head from the cache, generates, hands the checks
the narrow things they need, and publishes. ``api/`` tells each entry point, a module per task, as
a few of these named steps.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..cache.files import project_id
from ..cache.headers import RevisionHeaders
from ..cache.keys import canonical, revision_keys
from ..cache.reflection import reflection_answered_from_cache
from ..cache.shadows import ShadowCache, snapshot_stores
from ..checks.models_ahead import ModelsAhead
from ..checks.new_revision import ModelsDatabases
from ..errors import Advice
from ..revisions.driver import History, Progress
from ..revisions.generation import Generated, generate
from ..revisions.staging import Staging
from .app_loading import history_builds_its_own_tables
from .binds import env_matches_binds
from .locking import migrations_lock
from .made_while_loading import fingerprints
from .session import QUIET, Project, Runtime, Session, open_session


@dataclass(frozen=True)
class Built:
    """How a run's shadow database reached head, for its one-line summary."""

    applied: int  # revisions this run applied
    restored: str | None = None  # the cached revision it started from, if any


@dataclass(frozen=True)
class Run:
    """A session with its migrations directory staged and its history read."""

    session: Session
    staging: Staging
    history: History
    runtime: Runtime
    use_cache: bool  # snapshots, revision headers, reflection answers and models' schemas reused
    ahead: ModelsAhead  # verification's models, built while the history is applied (if asked)
    #: Caches still saving snapshots of the shadow databases (``ShadowCache.save``): settled before
    #: anything changes them, and before the session drops them.
    saving: list[ShadowCache] = field(default_factory=list)

    @contextmanager
    def migrating(self) -> Iterator[list[Advice]]:
        """The block that applies the history: a failure that means an extension made a table the
        history creates too, or that env.py and the app's binds do not agree, is told as such. The
        list yielded gets, by the end of the block, what to know about the binds env.py migrated."""
        with (
            history_builds_its_own_tables(self.session.loaded_tables),
            env_matches_binds(self.session.binds, self.history) as migrated,
        ):
            yield migrated

    def build_to_head(
        self, history: History | None = None, show_progress: bool = True, models_ahead: bool = False
    ) -> Built:
        """The shadow databases upgraded to the head of ``history`` (the run's own by default), from
        the deepest cached snapshot when there is one (which holds the extensions' tables too: their
        DDL is part of its key). With ``models_ahead``, verification's models' databases are built
        meanwhile, on a server (``checks/models_ahead.py``)."""
        self.settle()
        history = history or self.history
        with self._models_built_ahead(history, models_ahead):
            return self._built(history, show_progress)

    @contextmanager
    def _models_built_ahead(self, history: History, asked: bool) -> Iterator[None]:
        """The models' build ahead started as env.py configures each database, where it may help: on a
        server (a thread there mostly waits for its answers), with the cache (whose key says what was
        built)."""
        if not (asked and self.use_cache and self.session.shadow.backend.builds_alongside):
            yield
            return
        history.configured = self.ahead.start
        try:
            yield
        finally:
            history.configured = None

    def _built(self, history: History, show_progress: bool) -> Built:
        progress = self.runtime.progress if show_progress else None
        backend = self.session.shadow.backend
        stores = snapshot_stores(backend, project_id(history.staging.project_dir)) if self.use_cache else []
        if not stores:  # the cache is off for this run, or MySQL and MariaDB: they keep none
            return Built(history.upgrade(progress=progress))
        return self._build_from_snapshots(history, ShadowCache(stores), progress)

    def _build_from_snapshots(self, history: History, cache: ShadowCache, progress: Progress | None) -> Built:
        """Restore the deepest snapshot set of the history's revisions, apply what came after, and keep
        a set at the head if it was not the one restored, or came from a later store than the first:
        the next run on a new server then copies the template its first run left (0.2 s) instead of
        restoring the dump again (3 s at N=1000), and a store that has the set only marks it used.
        The app's pooled connections are closed before a server database is replaced or copied."""
        shadows = self.session.shadows
        binds = [bind for bind in shadows if bind is not None]
        settings = canonical({**history.adapter.env_settings(), "extension_tables": self._extension_ddl()})
        dialect = self.session.shadow.backend.name  # the same name as its connections' dialect
        keys = revision_keys(history.script, history.staging.staged_dir, dialect, binds, settings)
        heads_first = [revision.revision for revision in history.script.walk_revisions()]
        self.session.release_connections()
        self.session.stack.callback(cache.finish)  # a store's work in a thread: done before the run ends
        restored = cache.restore(keys, heads_first, shadows)
        applied = history.upgrade(progress=progress)
        head = history.single_head()
        if head is not None and (head != restored or cache.restored_from_a_later_store):
            self.session.release_connections()
            self.saving.append(cache)
            cache.save(keys[head], {bind: shadows[bind] for bind in history.migrated if bind in shadows})
        return Built(applied, restored)

    def settle(self) -> None:
        """Wait for the snapshots still being saved from the shadow databases: before they change."""
        while self.saving:
            self.saving.pop().settle()

    def _extension_ddl(self) -> dict[str, list[str]]:
        """The extensions' tables' DDL, for the cache's keys."""
        return fingerprints(self.session.extension_tables, self.session.adapter.engines())

    def autogenerate(
        self, title: str, empty: bool = False, rev_id: str | None = None, safe: bool = False
    ) -> Generated:
        """The new revision generated from the models, with the reflection of the tables a previous run
        saw unchanged answered from the cache; with ``safe``, in the forms that do not block production."""
        engines = self.session.adapter.engines().values()
        try:
            with reflection_answered_from_cache(engines, self.staging.project_dir, self.use_cache):
                return generate(
                    self.history, title, empty, rev_id, questioner=self.runtime.questioner, safe=safe
                )
        finally:
            self.settle()  # generating only reads the shadow databases; what comes next may change them

    def without(
        self, left_out: list[Path], beside: Staging | None = None, known_headers: bool = False
    ) -> History:
        """The history with ``left_out`` taken out of it (what a squash replaces, the revisions a rebase
        moves), and with ``beside``'s files too (a git ref's, ``Staging.beside``), staged in this run's
        private folder. Every file is imported (the squashed revision is new), unless
        ``known_headers``: then the files whose header the run's cache knows by their bytes are placed
        without (a rebase's history is the project's, less a few files, more the ref's)."""
        staging = self.staging.without(left_out, self.session.shadow.workdir)
        headers = self.history.headers if known_headers else None
        return History(self.session.adapter, staging.joined(beside) if beside else staging, headers)

    def empty_shadows(self) -> None:
        """Every shadow database emptied, to build another history in (``Session.empty``)."""
        self.settle()
        self.session.empty()

    @property
    def models_databases(self) -> ModelsDatabases:
        """Where the checks build the models of each database: all they need of the session. The
        checks change the shadow databases: the snapshots still being saved from them are settled."""
        self.settle()
        backend = self.session.shadow.backend
        return ModelsDatabases(self.session.models_database, backend.builds_alongside, self.ahead)

    @property
    def notes(self) -> list[Advice]:
        return self.session.notes

    def publish(self, staged_file: Path) -> Path:
        """Copy the one new file into the project (see ``Staging.publish``); return where it went."""
        return self.staging.publish(staged_file)


@contextmanager
def open_run(
    project: Project, runtime: Runtime = QUIET, writes: bool = False, use_cache: bool = True
) -> Iterator[Run]:
    """The session, the migrations directory locked (exclusively if the run ``writes``, checked to be
    writable before any work), its staging copy and its history. The session is set up first and
    torn down last (``session``: its order is the safety order)."""
    with open_session(project, runtime) as session, migrations_lock(session.directory, exclusive=writes):
        staging = session.stage()
        if writes:
            staging.check_writable()
        # The project's known revision headers: a run that applies few revisions imports few files.
        headers = RevisionHeaders.of_project(staging.project_dir) if use_cache else None
        history = History(session.adapter, staging, headers)
        ahead = ModelsAhead(session.adapter, session.models_database, session.stack)
        run = Run(session, staging, history, runtime, use_cache, ahead)
        session.stack.callback(run.settle)  # snapshots being saved: before the session drops the databases
        try:
            yield run
        finally:
            ahead.finish()  # inside the run: an interrupt still reaches the builds' statements
