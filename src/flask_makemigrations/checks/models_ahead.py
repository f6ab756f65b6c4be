"""The models' databases built while the history is applied, before verification asks for them.

Verification compares the migrated schema with a database built from the models (``new_revision``).
On a server, building it is mostly waiting for the server's answers, and it used to start only once
the revision was generated, in a thread beside the round trip: a cold run at 1000 revisions still
waited 1.5 s for it. The tables it holds depend on ``env.py``'s options (its metadata, version table
and filters), known once ``env.py`` has configured its context, and the build of the shadow databases
runs ``env.py`` first (``History.configured``). So from that moment each database's models are built,
in a thread, beside the history's upgrade, autogenerate and the round trip: the tables whose shape the
cache does not have, and those they refer to (``models_plan``).

That database is used only for models exactly like the ones verification builds: under the same key,
that of every statement ``create_all`` would run (``cache/schemas.models_keys``); one built under
another key, or whose build failed, is emptied and verification builds it as it always did. Nothing is
built ahead where the cache already has the schema for that key, where there is no key (an
``include_object`` filter is code the key cannot see), or without the cache (``--no-cache`` builds
everything the certain way).
"""

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from ..cache.schemas import ModelsKeys, has_models_schema, models_keys
from ..run.adapter import ProjectAdapter
from ..run.binds import BindKey
from ..shadow.backend import ShadowDatabase
from .models_plan import ModelsPlan
from .new_revision import create_models, joined
from .schema import Filters


@dataclass(frozen=True)
class _Built:
    """One database's models, being built ahead."""

    plan: ModelsPlan  # the tables made (those whose shape the cache does not have), and their keys
    shadow: ShadowDatabase
    done: "Future[None]"


class ModelsAhead:
    """The models of each database env.py configures, built ahead into the run's models' databases
    (``make``, which the session removes), in a thread the session waits for (``stack``)."""

    def __init__(self, adapter: ProjectAdapter, make: Callable[[BindKey], ShadowDatabase], stack: ExitStack):
        self.adapter = adapter
        self.make = make
        self.stack = stack
        #: Each database's filters as env.py configured them for the upgrade, and their keys.
        self._keys: dict[BindKey, tuple[Filters, ModelsKeys]] = {}
        self._builds: dict[BindKey, _Built] = {}
        self._pool: ThreadPoolExecutor | None = None

    def start(self, bind: BindKey, context: MigrationContext) -> None:
        """Build ``bind``'s models in a thread, as env.py's ``context`` says (once per database)."""
        engine = self.adapter.engines().get(bind)
        if bind in self._keys or engine is None:
            return
        filters = Filters.from_context_opts(context.opts, self.adapter.metadatas().get(bind))
        keys = models_keys(filters, engine)
        self._keys[bind] = (filters, keys)
        if keys.whole is None or has_models_schema(keys.whole):
            return
        plan = ModelsPlan.of(keys)
        if not plan.builds:
            return
        shadow = self.make(bind)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(thread_name_prefix="models-ahead")
        # After the database's removal is registered: the build is waited for before it goes.
        self.stack.callback(joined, self._pool)
        # In this thread's context: the app context, which the models' hooks may use (current_app).
        done = self._pool.submit(contextvars.copy_context().run, create_models, filters, shadow, plan.build)
        self._builds[bind] = _Built(plan, shadow, done)

    def finish(self) -> None:
        """Wait for the builds under way: before the run's cleanup starts, while an interrupt still
        stops them at their next statement (``signals.cleanup_shield``: once cleanup has started, a
        statement no longer raises it, and a build could go on for as long as it takes)."""
        if self._pool is not None:
            joined(self._pool)

    def keys(self, bind: BindKey, filters: Filters, engine: Engine) -> ModelsKeys:
        """``models_keys(filters, engine)``, without compiling every statement again where ``filters``
        create what env.py's did for the upgrade: the same metadatas and version table, and no
        ``include_object``."""
        if bind in self._keys and _creates_the_same(self._keys[bind][0], filters):
            return self._keys[bind][1]
        return models_keys(filters, engine)

    def plan(self, bind: BindKey, key: str | None) -> ModelsPlan | None:
        """What the build ahead of ``bind``'s models makes, if it was for models under ``key``."""
        built = self._builds.get(bind)
        return built.plan if built is not None and built.plan.keys.whole == key else None

    def holds(self, bind: BindKey, key: str | None) -> bool:
        """Whether ``bind``'s models' database holds what ``create_all`` makes under ``key``, once the
        build ahead is done (waited for here). One built under another key, or that failed, is emptied:
        verification builds it again, as without a build ahead (and says why it fails, if it does)."""
        built = self._builds.pop(bind, None)
        if built is None:
            return False
        if built.done.exception() is None and built.plan.keys.whole == key:
            return True
        built.shadow.backend.empty(built.shadow)
        return False


def _creates_the_same(ahead: Filters, now: Filters) -> bool:
    return (
        ahead.include_object is None
        and now.include_object is None
        and ahead.version_table == now.version_table
        and [id(metadata) for metadata in ahead.metadatas] == [id(metadata) for metadata in now.metadatas]
    )
