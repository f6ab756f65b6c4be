"""Rewrites of the generated operations, registered per operation type and chained.

The shape of Alembic's ``alembic.autogenerate.rewriter.Rewriter``: a rewrite is a small function that
takes one operation and returns what stands in its place (itself, others before or after it, or
nothing), registered for the operation types it handles, one per type; the most specific registered
type of an operation picks its rewrite (as Alembic dispatches on the class); ``chain`` runs a second
rewriter on what the first wrote, so two rewrites of one type compose. The completion
(``completion.py``) applies them to each engine's upgrade before Alembic renders the script. Ours are
built per engine (a rewrite may keep what it saw: the enum types it already created), and they
rewrite the top-level operations, where a new statement (a ``CREATE TYPE``) is rendered with
``op.``, not inside a table's batch.
"""

from collections.abc import Callable
from typing import TypeVar, cast

from alembic.operations import ops

Operation = TypeVar("Operation", bound=ops.MigrateOperation)
#: What stands in place of one operation of a type.
TypedRewrite = Callable[[Operation], list[ops.MigrateOperation]]
#: What stands in place of any operation.
Rewrite = TypedRewrite[ops.MigrateOperation]


class Rewriter:
    """Rewrites by the operation type they handle, and the rewriter chained after this one."""

    def __init__(self) -> None:
        self._by_type: dict[type[ops.MigrateOperation], Rewrite] = {}
        self._then: Rewriter | None = None

    def rewrites(
        self, *op_types: type[Operation]
    ) -> Callable[[TypedRewrite[Operation]], TypedRewrite[Operation]]:
        """Register the decorated rewrite for ``op_types`` (and their subclasses)."""

        def register(rewrite: TypedRewrite[Operation]) -> TypedRewrite[Operation]:
            for op_type in op_types:
                if op_type in self._by_type:  # a second one would silently replace the first
                    raise TypeError(f"{op_type.__name__} already has a rewrite here: chain another Rewriter")
                # Called only with instances of op_type (``_rewritten`` dispatches on the class).
                self._by_type[op_type] = cast(Rewrite, rewrite)
            return rewrite

        return register

    def chain(self, other: "Rewriter") -> "Rewriter":
        """A rewriter that runs this one, then ``other`` on what this one wrote."""
        chained = Rewriter()
        chained._by_type = self._by_type
        chained._then = other if self._then is None else self._then.chain(other)
        return chained

    def rewrite(self, container: ops.OpContainer) -> None:
        """Replace, in place, each of ``container``'s operations by what its rewrites return."""
        container.ops[:] = [written for op in container.ops for written in self._rewritten(op)]
        if self._then is not None:
            self._then.rewrite(container)

    def _rewritten(self, op: ops.MigrateOperation) -> list[ops.MigrateOperation]:
        rewrite = next((self._by_type[cls] for cls in type(op).__mro__ if cls in self._by_type), None)
        return [op] if rewrite is None else rewrite(op)
