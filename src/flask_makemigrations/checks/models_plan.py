"""What of a database's models verification builds, when the cache does not have their whole schema.

A developer's run after an edit meets models the cache has not seen as a whole, but most of their
tables it has: building them all again (a ``CREATE TABLE`` and its indexes per table, on a server)
was most of such a run's extra time, 1.1 s at 50 tables and 1.9 s at 250 on PostgreSQL. Where each
table has a key of the statements that make it (``cache/schemas.ModelsKeys``), the tables whose shape
the cache keeps under their key are taken from it, and only the others are made, with the tables
their foreign keys refer to, which must exist for them to be made. Without table keys, everything
is built, as before.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..cache.schemas import ModelsKeys, keep_model_tables, keep_models_schema, known_model_tables
from .schema import Schema


@dataclass(frozen=True)
class ModelsPlan:
    """The tables of a database's models that must be made, and the shapes of the others."""

    keys: ModelsKeys
    known: Schema = field(default_factory=dict)  # the tables whose shape the cache has, by name
    build: frozenset[str] | None = None  # the tables to make; None: all of them

    @classmethod
    def of(cls, keys: ModelsKeys) -> "ModelsPlan":
        """Every table whose shape the cache does not have made, where the tables have keys."""
        if keys.tables is None:
            return cls(keys)
        known = known_model_tables(keys.tables)
        missing = [name for name in keys.tables if name not in known]
        return cls(keys, known, _with_referred(missing, keys.references))

    @property
    def builds(self) -> bool:
        """Whether a database must be made for them: a table the cache does not have."""
        return self.build is None or bool(self.build)

    def schema(self, built: Schema) -> Schema:
        """The models' schema: the shapes of the tables just made, and the cache's for the others; in
        the order of their names, however many were made. Kept for the next run, whole and by table
        key (where there are keys)."""
        keys = self.keys.tables
        if keys is None:
            found = built
        else:
            if built:
                keep_model_tables({keys[name]: shape for name, shape in built.items() if name in keys})
            found = dict(sorted((built if self.build is None else {**self.known, **built}).items()))
        keep_models_schema(self.keys.whole, found)
        return found


def _with_referred(tables: Iterable[str], references: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """``tables`` and every table their foreign keys refer to, directly or not."""
    needed: set[str] = set()
    pending = list(tables)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending += references.get(name, ())
    return frozenset(needed)
