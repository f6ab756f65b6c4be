"""Verify a new revision on the shadow database before it reaches the project.

Autogenerate has blind spots (server defaults, check constraints, some type changes), and people apply
its files without reading them. So the new revision is applied, the result is compared with a second
database built straight from the models (one per database of the app: Flask-SQLAlchemy's binds each
have theirs; its schema comes from the cache when the models are the same, ``cache/schemas.py``, and
else only the tables the cache has no shape for are built, ``models_plan.py``; on a server it is built
in a thread meanwhile), then it is downgraded (which must give back the schema it
started from) and applied again. All of it happens in the staging copy: a revision that fails never
reaches the project.
"""

import contextvars
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..cache.schemas import ModelsKeys, kept_table_shapes, known_models_schema, models_keys
from ..errors import AppExitError, MigrationError, RevisionFailedError, VerificationError
from ..findings import extended, in_bind
from ..revisions.driver import History
from ..revisions.generation import Generated
from ..run.binds import BindKey
from ..run.signals import uninterrupted
from .locks.capture import OperationStatements, capture, operation_statements
from .locks.report import LockReport
from .models_plan import ModelsPlan
from .rows.verification import RowsFindings, verify_with_rows
from .schema import Filters, Schema, TableShapes, differences, reflect

if TYPE_CHECKING:  # annotations only
    from ..shadow.backend import ShadowDatabase
    from .models_ahead import ModelsAhead  # it imports this module

NO_VERIFY_HINT = "nothing was written; --no-verify writes the revision anyway, for a hand edit"
# For --check and --dry-run, which never write: the failure is a warning there.
CHECK_HINT = (
    "the revision autogenerate would write does not apply on this database, so a writing run would "
    "refuse it (--no-verify writes it anyway, for a hand edit)"
)
MODELS, MIGRATIONS = "the models", "the migrations"


#: A schema per database of the app, by bind key (None: the main database).
Schemas = dict[BindKey, Schema]


@dataclass(frozen=True)
class ModelsDatabases:
    """All the checks need of a run to build the models: ``make`` gives an empty throwaway database of
    the shadow databases' kind for a bind (made when first asked for, removed with the run),
    ``alongside`` says whether that kind is built in a thread while the round trip runs (a server's:
    mostly waiting for its answers), and ``ahead`` has what was built while the history was applied
    (``models_ahead``)."""

    make: Callable[[BindKey], "ShadowDatabase"]
    alongside: bool
    ahead: "ModelsAhead | None" = None


@dataclass(frozen=True)
class Databases:
    """The app's databases as verification sees them: the engine of each (on its shadow database)
    and how autogenerate filters it."""

    history: History
    engines: dict[BindKey, Engine]
    configured: dict[BindKey, Filters]  # env.py's autogenerate options, for the databases it compared
    shapes: TableShapes | None = None  # the tables already reflected, not reflected again

    @classmethod
    def of(
        cls, history: History, generated: Generated | None = None, shapes: TableShapes | None = None
    ) -> "Databases":
        """Every database of the app, with the filters env.py gave autogenerate for each (``generated``)."""
        metadatas = history.adapter.metadatas()
        engines = history.adapter.engines()
        configured = {
            engine.bind: Filters.from_context_opts(engine.context_opts, metadatas.get(engine.bind))
            for engine in (generated.engines if generated else [])
            if engine.bind in engines  # a custom env.py's engine that is no bind of the app: not compared
        }
        if generated is not None and not configured:  # a blank revision: env.py did not run
            configured[None] = Filters.from_context_opts({}, metadatas.get(None))
        return cls(history, engines, configured, shapes)

    def filters(self, bind: BindKey) -> Filters:
        """What autogenerate looks at in ``bind``; elsewhere every table but the version table (asked
        each time: running env.py is what says which one that is)."""
        return self.configured.get(bind) or Filters(version_table=self.history.version_table)

    def snapshot(self) -> Schemas:
        return {
            bind: snapshot(engine, self.filters(bind), self.shapes) for bind, engine in self.engines.items()
        }

    def prefixed(self, bind: BindKey, lines: list[str]) -> list[str]:
        """A bind's lines name the bind, as a multi-database env.py's operations do."""
        return [in_bind(line, bind) for line in lines] if bind and self.history.multidb else lines

    def measured(self, into: LockReport | None, lines: OperationStatements) -> AbstractContextManager[None]:
        """Around an upgrade: what each statement locks recorded ``into`` the report, beside the
        operation whose SQL it is (``lines``; PostgreSQL's databases only, ``locks/capture.py``), or
        nothing without a report."""
        if into is None:
            return nullcontext()
        return capture(self.engines, self.history.version_table, lines, into)


@contextmanager
def models_schemas(
    databases: Databases, binds: list[BindKey], models: ModelsDatabases, use_cache: bool = True
) -> Iterator[Callable[[], Schemas]]:
    """The schema the models of each bind describe, as this kind of database reflects it
    (``create_all`` in an empty throwaway database ``models`` makes for that bind), unless the
    cache has it for models exactly like these (``cache/schemas.py``): the function yielded returns them.

    On a server, building them is mostly waiting for its answers, so it runs in a thread while the
    block migrates and reflects the shadow database (waiting too); elsewhere it is done when first
    asked for. Either way a failed build raises there. The databases are made in this thread (the
    session's stack is its), and the thread is waited for on the way out, whatever ends the block.
    """
    with ExitStack() as stack:
        pool = None
        if models.alongside:
            pool = ThreadPoolExecutor(max_workers=len(binds) or 1, thread_name_prefix="models")
            stack.callback(joined, pool)
        pending = [(bind, _models_schema(databases, bind, models, use_cache, pool)) for bind in binds]
        yield lambda: {bind: schema() for bind, schema in pending}


def joined(pool: ThreadPoolExecutor) -> None:
    """Wait for the models' thread, which an interrupt stops at its next statement (``signals``);
    a second Ctrl-C must not abandon the wait, or the databases would be dropped under it."""
    with uninterrupted():
        pool.shutdown(wait=True)


def _models_schema(
    databases: Databases, bind: BindKey, models: ModelsDatabases, use_cache: bool, pool: Executor | None
) -> Callable[[], Schema]:
    filters, engine, ahead = databases.filters(bind), databases.engines[bind], models.ahead
    keys = _keys(bind, filters, engine, ahead) if use_cache else ModelsKeys(None)
    known = known_models_schema(keys.whole)
    if known is not None:
        return lambda: known
    # What was built ahead was built by its plan: the one to complete.
    plan = (ahead.plan(bind, keys.whole) if ahead else None) or ModelsPlan.of(keys)
    if not plan.builds:  # every table's shape is known
        found = plan.schema({})
        return lambda: found
    models_shadow = models.make(bind)

    def build() -> Schema:
        created = ahead is not None and ahead.holds(bind, keys.whole)
        return plan.schema(models_schema(filters, models_shadow, created=created, only=plan.build))

    if pool is None:
        return functools.cache(build)
    # In this thread's context: the app context, which the models' hooks may use (current_app).
    return pool.submit(contextvars.copy_context().run, build).result


def _keys(bind: BindKey, filters: Filters, engine: Engine, ahead: "ModelsAhead | None") -> ModelsKeys:
    """The models' keys, as the build ahead computed them where it did."""
    return ahead.keys(bind, filters, engine) if ahead else models_keys(filters, engine)


def models_schema(
    filters: Filters,
    models_shadow: "ShadowDatabase",
    created: bool = False,
    only: frozenset[str] | None = None,
) -> Schema:
    """The schema of the models ``filters`` keep (``only`` those tables, if given), as
    ``models_shadow`` reflects it once ``create_all`` made them there (unless they are ``created``
    already)."""
    with _connected(models_shadow) as connection:
        if not created:
            _create_models(filters, connection, only)
        return reflect(connection, filters, reflected=False)


def create_models(
    filters: Filters, models_shadow: "ShadowDatabase", only: frozenset[str] | None = None
) -> None:
    """The models ``filters`` keep (``only`` those tables, if given) made in ``models_shadow``
    (committed: ``models_ahead``)."""
    with _connected(models_shadow) as connection:
        _create_models(filters, connection, only)


@contextmanager
def _connected(models_shadow: "ShadowDatabase") -> Iterator[Connection]:
    """A transaction on ``models_shadow``, committed if the block ends well."""
    # One connection, used once: no pool to choose (SQLAlchemy warns about guessing one for memory URLs).
    engine = sa.create_engine(models_shadow.url_string, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def _create_models(filters: Filters, connection: Connection, only: frozenset[str] | None = None) -> None:
    try:
        for metadata in filters.metadatas:
            # Only what autogenerate looks at: a table env.py filters out may not even be
            # creatable here (a type of another database, a view mapped as a table).
            # Unsorted: create_all orders them itself, and sorted_tables would repeat a warning about
            # a cycle that autogenerate already showed, attributed to this file.
            kept = [
                t
                for t in metadata.tables.values()
                if filters.keeps("table", t.name, None, False) and (only is None or t.name in only)
            ]
            metadata.create_all(connection, tables=kept)
    except sa.exc.SQLAlchemyError as exc:  # e.g. a model in a schema this database lacks
        reason = str(getattr(exc, "orig", None) or exc)
        raise failed("building a database from the models", reason, "--no-verify skips it") from exc


def snapshot(engine: sa.engine.Engine, filters: Filters, shapes: TableShapes | None = None) -> Schema:
    with engine.connect() as connection:
        return reflect(connection, filters, shapes=shapes)


def schema_differences(
    databases: Databases, expected: Schemas, actual: Schemas, expected_label: str, actual_label: str
) -> list[str]:
    """The differences of every database both sides have, each bind's naming it."""
    found = []
    for bind in [bind for bind in expected if bind in actual]:  # in order: the main database first
        lines = differences(expected[bind], actual[bind], expected_label, actual_label)
        found += databases.prefixed(bind, lines)
    return found


def failed(
    name: str, reason: str, hint: str = NO_VERIFY_HINT, kind: type[VerificationError] = VerificationError
) -> VerificationError:
    return kind(f"verification failed at {name}: {reason}" + (f"; {hint}" if hint else ""))


@contextmanager
def step(name: str, hint: str = NO_VERIFY_HINT) -> Iterator[None]:
    """Name the verification step in the error a failing Alembic command raises."""
    try:
        yield
    except (VerificationError, AppExitError):  # sys.exit() stays an error of its own
        raise
    except MigrationError as exc:
        raise failed(name, str(exc), hint, RevisionFailedError) from exc


def check_restored(
    databases: Databases, before: Schemas, after: Schemas, name: str, culprit: str, hint: str = NO_VERIFY_HINT
) -> None:
    """A downgrade must give back exactly the schema its upgrade started from, on every database."""
    left = schema_differences(
        databases, before, after, "the schema before the upgrade", "the schema after the downgrade"
    )
    if left:
        reason = f"{culprit} does not give back the schema it started from: {'; '.join(left)}"
        raise failed(name, reason, hint, RevisionFailedError)


@dataclass(frozen=True)
class Verification:
    """What verifying a new revision found that is no error."""

    differences: list[str]  # the models against the migrated schema, beyond what autogenerate sees
    warnings: list[str] = field(default_factory=list)  # what rows showed that depends on the data
    notes: list[str] = field(default_factory=list)  # the tables rows could not go into, and why
    locks: LockReport | None = None  # what its statements locked (PostgreSQL), measured as it went up


def verify_new_revision(
    models: ModelsDatabases,
    history: History,
    generated: Generated,
    previous_head: str | None,
    hint: str = NO_VERIFY_HINT,
    shown: str = "the pending revision",
    use_cache: bool = True,
) -> Verification:
    """Upgrade, compare with the models, downgrade, upgrade again; then the same over rows in the
    tables the revision touches (``rows/``). Returns the differences, and what the rows showed.

    The shadow databases are at ``previous_head`` on entry. Without a new revision (no changes) only
    the comparison runs: "No changes detected" while the models differ is what users never notice.
    ``shown`` names the new revision's file the way the user will find it (or not: it is not written);
    ``use_cache`` False builds the models' database even if the cache knows its schema, and reflects
    every table the run has not reflected yet.
    """
    with kept_table_shapes(history.staging.project_dir, use_cache) as shapes:
        databases = Databases.of(history, generated, shapes)
        return _verified(models, databases, generated, previous_head, hint, shown, use_cache)


def _verified(
    models_databases: ModelsDatabases,
    databases: Databases,
    generated: Generated,
    previous_head: str | None,
    hint: str,
    shown: str,
    use_cache: bool,
) -> Verification:
    history = databases.history
    # Before the models' thread starts: Alembic writes the operations' SQL with the models' own types.
    lines = operation_statements(generated.engines)
    with models_schemas(databases, list(databases.configured), models_databases, use_cache) as models:
        before = databases.snapshot()
        if generated.staged_file is None or generated.revision is None:
            unseen = "; autogenerate does not see this: write it by hand in a new revision"
            unseen += " (makemigrations --empty)"
            found = schema_differences(databases, models(), before, MODELS, MIGRATIONS)
            return Verification([extended(line, unseen) for line in found])
        target = previous_head or "base"
        locks = LockReport(revision=generated.revision)
        shown_new = f"the pending revision {generated.revision}"
        new = RoundTrip(generated.revision, target, target, shown_new, locks=locks, lines=lines)
        after = round_trip(history, databases, new, before, hint)
        found = schema_differences(databases, models(), after, MODELS, MIGRATIONS)
    by_hand = f"; autogenerate did not see this or cannot render it: edit {shown} by hand"
    rows = _with_rows(databases, generated, previous_head, before, found, hint)
    return Verification([extended(line, by_hand) for line in found], rows.warnings, rows.notes, locks)


def _with_rows(
    databases: Databases,
    generated: Generated,
    previous_head: str | None,
    before: Schemas,
    found: list[str],
    hint: str,
) -> RowsFindings:
    """The revision over rows (``rows/verification.py``), unless the differences have operations:
    then it is generated again with them and verified again, rows and all (``api._drift_written``)."""
    from ..revisions.drift import drift_operations  # it imports this module

    if drift_operations(found, generated, databases.engines):
        return RowsFindings()
    existing = {bind: set(schema) for bind, schema in before.items()}
    return verify_with_rows(databases, generated, previous_head, existing, hint)


@dataclass(frozen=True)
class RoundTrip:
    """One revision to take up, down and up again: what Alembic is told, and what messages say."""

    revision: str
    down_target: str  # what Alembic downgrades to (``base``, a parent, ``<revision>@-1``)
    down_shown: str  # how the message names where it went down to
    culprit: str  # how a message names the revision (its file, or "the pending revision")
    where: str = ""  # "(revision 3 of 10)": where in a longer check it stands
    locks: LockReport | None = None  # given: what its first upgrade locks is recorded into it
    lines: OperationStatements = field(default_factory=dict)  # the operations' lines by their SQL


def round_trip(
    history: History, databases: Databases, trip: RoundTrip, before: Schemas, hint: str
) -> Schemas:
    """Apply a revision, take it back (which must give back ``before``), apply it again: the check of
    a new revision and of each revision ``verify`` walks. Returns the schemas the revision builds."""
    new, where = trip.revision, f" {trip.where}" if trip.where else ""
    with step(f"upgrade to {new}{where}", hint), databases.measured(trip.locks, trip.lines):
        history.upgrade(new)
    after = databases.snapshot()
    down = f"downgrade {new} -> {trip.down_shown}{where}"
    with step(down, hint):
        history.downgrade(trip.down_target)
    check_restored(databases, before, databases.snapshot(), down, trip.culprit, hint)
    with step(f"second upgrade to {new}{where}", hint):
        history.upgrade(new)
    return after
