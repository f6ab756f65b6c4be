"""A database schema as a comparable value, and the differences between two of them.

Both sides of every comparison are reflected from the same kind of database (the migrated shadow
database, and a second one built from the models with ``create_all``), so each dialect's reflection
habits cancel out. What is left to normalize is how the same schema can look after different DDL: a
quoted or cast server default and reflected SQL (each dialect's class knows its own spellings), a unique
constraint that exists as a unique index (PostgreSQL reflects it both ways), names that only the
database chose. Alembic's version table and whatever ``env.py``
filters out (``include_name``, ``include_object``) are not part of the schema, as in autogenerate.
"""

import contextlib
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.reflection import Inspector
from sqlalchemy.types import NullType, TypeEngine

from ..compat import SQLALCHEMY_ENUM_VALUES_BY_OID
from ..dialects import DefaultImpl, impl_for
from ..findings import Finding

if TYPE_CHECKING:  # annotations only: SQLAlchemy 2.0's reflection types (1.4 is supported too)
    from sqlalchemy.engine.interfaces import ReflectedCheckConstraint, ReflectedColumn, ReflectedIndex

#: A column as compared: its type as the database spells it, nullable, its server default.
ColumnShape = tuple[str, bool, str | None]
#: A foreign key as compared: columns, referred table, referred columns, the options that matter.
ForeignKeyShape = tuple[tuple[str, ...], str, tuple[str, ...], tuple[tuple[str, str], ...]]
_Key = TypeVar("_Key")


@dataclass(frozen=True)
class TableShape:
    """One table, normalized; every mapping goes from what identifies an item to its name."""

    columns: dict[str, ColumnShape]  # name -> (type, nullable, server default)
    primary_key: tuple[str, ...]
    #: column tuple -> name (unique constraints and unique indexes alike)
    uniques: dict[tuple[str, ...], str | None]
    indexes: dict[tuple[str, ...], str | None]  # column tuple -> name (non-unique indexes)
    #: (columns, referred table, referred columns, options) -> name
    foreign_keys: dict[ForeignKeyShape, str | None]
    checks: dict[str, str | None]  # SQL text -> name


Schema = dict[str, TableShape]  # table name -> TableShape


@dataclass
class Filters:
    """``env.py``'s ``include_name``/``include_object``, so the comparison sees what autogenerate sees."""

    # As this module calls them (Alembic's IncludeNameFn and IncludeObjectFn, with plain strings).
    include_name: Callable[[str | None, str, dict[str, str | None]], bool] | None = None
    include_object: (
        Callable[[sa.schema.SchemaItem, str | None, str, bool, sa.schema.SchemaItem | None], bool] | None
    ) = None
    metadatas: tuple[sa.MetaData, ...] = ()
    version_table: str = "alembic_version"

    @classmethod
    def from_context_opts(
        cls, opts: dict[str, Any], fallback_metadata: sa.MetaData | None = None
    ) -> "Filters":
        """Read the options ``env.py`` gave ``context.configure`` (a MigrationContext's ``opts``)."""
        metadata = opts.get("target_metadata", fallback_metadata)
        metadatas: tuple[sa.MetaData, ...]
        if metadata is None:
            metadatas = ()
        elif isinstance(metadata, (list, tuple)):
            metadatas = tuple(metadata)
        else:
            metadatas = (metadata,)
        return cls(
            include_name=opts.get("include_name"),
            include_object=opts.get("include_object"),
            metadatas=metadatas,
            version_table=opts.get("version_table") or "alembic_version",
        )

    def keeps(self, type_: str, name: str | None, table: str | None, reflected: bool) -> bool:
        """Whether autogenerate would look at this object; ``reflected`` is False for the models' side."""
        if type_ == "table" and name == self.version_table:
            return False
        if reflected and self.include_name and type_ != "check_constraint":
            parents: dict[str, str | None] = {"schema_name": None}
            if table is not None:
                parents.update(table_name=table, schema_qualified_table_name=table)
            if not self.include_name(name, type_, parents):
                return False
        if self.include_object:
            return bool(self.include_object(self._object(type_, name, table), name, type_, reflected, None))
        return True

    def _object(self, type_: str, name: str | None, table: str | None) -> sa.schema.SchemaItem:
        """The models' own object when there is one (autogenerate would pass the reflected one, which
        we do not build), else a stand-in that carries the name."""
        # cast: only a key found in ``m.tables`` is looked up, so a str.
        model_table = next(
            (m.tables[cast(str, table or name)] for m in self.metadatas if (table or name) in m.tables), None
        )
        if type_ == "table":
            return model_table if model_table is not None else sa.Table(name or "", sa.MetaData())
        found: sa.schema.SchemaItem | None = None
        if model_table is not None and type_ == "column":
            found = model_table.c.get(cast(str, name))  # cast: a column always has a name (str)
        elif model_table is not None:
            # cast: mypy joins Index and Constraint into SchemaItem, which lacks the ``name`` both have.
            found = next(
                (
                    i
                    for i in cast(
                        "list[sa.Index | sa.Constraint]", [*model_table.indexes, *model_table.constraints]
                    )
                    if i.name == name
                ),
                None,
            )
        if found is not None:
            return found
        if type_ == "column":
            return sa.Column(name, NullType())
        return sa.Index(name) if type_ == "index" else sa.UniqueConstraint(name=name)


class TableShapes:
    """Tables already reflected, by what reflecting them read (``DefaultImpl.table_fingerprints``), so a
    schema is reflected again only where the database changed: the round trip of a revision that
    alters one table of 250 reflects that one.

    ``known`` comes from a cache (``cache/schemas.py``) under ``salt``, which names the code and versions
    that shape a table; filters that are code (``include_name``, ``include_object``) shape it too, so
    what they filtered is kept for this run only.
    """

    def __init__(self, known: dict[str, TableShape] | None = None, salt: str = ""):
        self.shapes = dict(known or {})
        self.salt = salt
        self.kept: dict[str, TableShape] = {}  # what a cache may keep for the next run
        self._scoped: list[Filters] = []

    def key(self, fingerprint: str, table: str, filters: Filters, reflected: bool) -> tuple[str, bool]:
        """The shape's key, and whether it may outlive the run."""
        lasting = filters.include_name is None and filters.include_object is None
        if not lasting:
            self._scoped.append(filters)  # kept alive, so that no other Filters takes its id
        scope = "" if lasting else f"run {id(filters)}"
        digest = hashlib.sha256(f"{self.salt}|{scope}|{reflected}|{table}|{fingerprint}".encode())
        return digest.hexdigest(), lasting

    def reflect(self, connection: Connection, filters: Filters, names: list[str], reflected: bool) -> Schema:
        """``names``' shapes, reflecting only the tables whose fingerprint is new."""
        fingerprints = impl_for(connection.dialect.name).table_fingerprints(connection) or {}
        keys = {
            name: self.key(fingerprints[name], name, filters, reflected)
            for name in names
            if name in fingerprints
        }
        known = {name: self.shapes[key] for name, (key, _) in keys.items() if key in self.shapes}
        found = _shapes(connection, filters, [name for name in names if name not in known], reflected)
        for name, (key, lasting) in keys.items():
            shape = known.get(name) or found[name]
            self.shapes[key] = shape
            if lasting:
                self.kept[key] = shape
        return {name: known.get(name) or found[name] for name in names}


def reflect(
    connection: Connection, filters: Filters, reflected: bool = True, shapes: TableShapes | None = None
) -> Schema:
    """The schema a connection sees (its default schema), as autogenerate's filters let it be seen;
    with ``shapes``, what they know of it is not reflected again."""
    inspector = sa.inspect(connection)
    names = [name for name in inspector.get_table_names() if filters.keeps("table", name, None, reflected)]
    if shapes is not None:
        return shapes.reflect(connection, filters, names, reflected)
    return _shapes(connection, filters, names, reflected)


def _shapes(connection: Connection, filters: Filters, names: list[str], reflected: bool) -> Schema:
    found = _reflected_tables(sa.inspect(connection), names)
    if SQLALCHEMY_ENUM_VALUES_BY_OID:
        _enum_values_in_order(found.values(), connection)
    return {name: _table(found[name], connection.dialect, name, filters, reflected) for name in names}


@dataclass
class _Reflected:
    """What the inspector reports about one table."""

    columns: list["ReflectedColumn"] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)
    uniques: list[Any] = field(default_factory=list)
    indexes: list["ReflectedIndex"] = field(default_factory=list)
    foreign_keys: list[Any] = field(default_factory=list)
    checks: list["ReflectedCheckConstraint"] = field(default_factory=list)


def _enum_values_in_order(tables: Iterable["_Reflected"], connection: Connection) -> None:
    """Put each reflected enum type's values in the type's order (see ``SQLALCHEMY_ENUM_VALUES_BY_OID``)."""
    labels = impl_for(connection.dialect.name).enum_labels(connection)
    for column in (column for table in tables for column in table.columns):
        type_ = column["type"]
        if isinstance(type_, sa.Enum) and type_.name:
            key = f"{type_.schema or connection.dialect.default_schema_name}.{type_.name}"
            type_.enums = labels.get(key, type_.enums)


def _reflected_tables(inspector: Inspector, names: list[str]) -> dict[str, _Reflected]:
    """Every table's reflection: in one query per kind where SQLAlchemy can (2.0's ``get_multi_*``,
    which a server answers in one round trip instead of one per table), else table by table."""
    if not names:
        return {}
    if not hasattr(inspector, "get_multi_columns"):  # SQLAlchemy 1.4
        return {name: _reflected_table(inspector, name) for name in names}
    found = {name: _Reflected() for name in names}

    def each(method: str) -> dict[str, Any]:
        return {table: value for (_, table), value in getattr(inspector, method)(filter_names=names).items()}

    columns = each("get_multi_columns")
    for table, primary_key in each("get_multi_pk_constraint").items():
        found[table].primary_key = list(primary_key.get("constrained_columns") or ())
    for table, uniques in each("get_multi_unique_constraints").items():
        found[table].uniques = uniques
    for table, indexes in each("get_multi_indexes").items():
        found[table].indexes = indexes
    for table, foreign_keys in each("get_multi_foreign_keys").items():
        found[table].foreign_keys = foreign_keys
    with contextlib.suppress(NotImplementedError):  # a dialect that cannot reflect them: none
        for table, checks in each("get_multi_check_constraints").items():
            found[table].checks = checks
    for name in names:
        if name in columns:
            found[name].columns = columns[name]
        else:  # skipped by the bulk query (SQLAlchemy leaves out what it cannot reflect): say why
            found[name] = _reflected_table(inspector, name)
    return found


def _reflected_table(inspector: Inspector, table: str) -> _Reflected:
    return _Reflected(
        inspector.get_columns(table),
        list(inspector.get_pk_constraint(table).get("constrained_columns") or ()),
        inspector.get_unique_constraints(table),
        inspector.get_indexes(table),
        inspector.get_foreign_keys(table),
        _check_constraints(inspector, table),
    )


def _table(found: _Reflected, dialect: Dialect, table: str, filters: Filters, reflected: bool) -> TableShape:
    known = impl_for(dialect.name)  # what its reflection needs normalized

    def keeps(type_: str, name: str | None) -> bool:
        return filters.keeps(type_, name, table, reflected)

    def default(column: "ReflectedColumn") -> str | None:
        text = column.get("default")
        return None if text is None else known.normalized_default(str(text))

    columns = {
        c["name"]: (_type(c["type"], dialect), bool(c["nullable"]), default(c))
        for c in found.columns
        if keeps("column", c["name"])
    }
    uniques = {
        tuple(u["column_names"]): u.get("name")
        for u in found.uniques
        if keeps("unique_constraint", u.get("name"))
    }
    indexes: dict[tuple[str, ...], str | None] = {}
    for index in found.indexes:
        if index.get("duplicates_constraint") or not keeps("index", index.get("name")):
            continue  # PostgreSQL lists each unique constraint once more, as an index
        columns_of = _index_columns(index, known)
        if index.get("unique"):
            uniques.setdefault(columns_of, index.get("name"))
        else:
            indexes[columns_of] = index.get("name")
    foreign_keys = {
        (
            tuple(fk["constrained_columns"]),
            fk["referred_table"],
            tuple(fk["referred_columns"]),
            _fk_options(fk.get("options")),
        ): fk.get("name")
        for fk in found.foreign_keys
        if keeps("foreign_key_constraint", fk.get("name"))
    }
    checks = {
        known.normalized_sql(str(ck["sqltext"])): ck.get("name")
        for ck in found.checks
        if keeps("check_constraint", ck.get("name"))
    }
    return TableShape(columns, tuple(found.primary_key), uniques, indexes, foreign_keys, checks)


def _check_constraints(inspector: Inspector, table: str) -> list["ReflectedCheckConstraint"]:
    try:
        return inspector.get_check_constraints(table)
    except NotImplementedError:  # a dialect that cannot reflect them: nothing to compare
        return []


def _index_columns(index: "ReflectedIndex", known: type[DefaultImpl]) -> tuple[str, ...]:
    expressions = index.get("expressions") or index.get("column_names") or ()
    return tuple(known.normalized_sql(str(e)) for e in expressions)


def _type(type_: TypeEngine[Any], dialect: Dialect) -> str:
    try:
        compiled = " ".join(str(type_.compile(dialect=dialect)).upper().split())
    except Exception:  # a reflected type the dialect cannot render back: compare its repr
        return repr(type_)
    if isinstance(type_, sa.Enum) and "(" not in compiled:
        # PostgreSQL's enum types render as their name alone: their values are part of the type
        # (autogenerate compares neither; MySQL's ENUM('a','b') already spells them).
        return f"{compiled}({', '.join(map(repr, type_.enums))})"
    return compiled


def _fk_options(options: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """Only the options that change behaviour; NO ACTION is what every database does unasked."""
    kept: dict[str, str] = {}
    for key in ("ondelete", "onupdate", "deferrable", "initially"):
        value = (options or {}).get(key)
        if value is not None and str(value).upper() not in ("NO ACTION", "FALSE", "IMMEDIATE"):
            kept[key] = str(value).upper()
    return tuple(sorted(kept.items()))


@dataclass
class _Findings:
    """What the two sides of a comparison are called in its messages, and what it found so far."""

    expected: str
    actual: str
    found: list[str] = field(default_factory=list)

    def only_in(self, what: str, kind: str, objects: list[str], side: str) -> None:
        self.found.append(Finding(f"{what}: only in {side}", kind, objects=objects, only_in=side))


def differences(expected: Schema, actual: Schema, expected_label: str, actual_label: str) -> list[str]:
    """One sentence per difference, naming the object; empty when the schemas are the same."""
    labels = _Findings(expected_label, actual_label)
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            labels.only_in(f"table {name}", "table", [name], expected_label)
        elif name not in expected:
            labels.only_in(f"table {name}", "table", [name], actual_label)
        else:
            _table_differences(name, expected[name], actual[name], labels)
    return labels.found


def _table_differences(table: str, expected: TableShape, actual: TableShape, labels: _Findings) -> None:
    for column in sorted(set(expected.columns) | set(actual.columns)):
        _column_differences(f"{table}.{column}", expected.columns, actual.columns, column, labels)
    if expected.primary_key != actual.primary_key:
        text = (
            f"primary key of {table}: ({', '.join(expected.primary_key)}) in {labels.expected}, "
            f"({', '.join(actual.primary_key)}) in {labels.actual}"
        )
        labels.found.append(Finding(text, "primary_key", objects=[table]))
    _item_differences("unique constraint", table, expected.uniques, actual.uniques, _columns, labels)
    _item_differences("index", table, expected.indexes, actual.indexes, _columns, labels)
    _item_differences("foreign key", table, expected.foreign_keys, actual.foreign_keys, _reference, labels)
    _item_differences("check constraint", table, expected.checks, actual.checks, str, labels)


def _column_differences(
    qualified: str,
    expected: Mapping[str, ColumnShape],
    actual: Mapping[str, ColumnShape],
    column: str,
    labels: _Findings,
) -> None:
    if column not in actual:
        labels.only_in(f"column {qualified}", "column", [qualified], labels.expected)
        return
    if column not in expected:
        labels.only_in(f"column {qualified}", "column", [qualified], labels.actual)
        return
    aspects = ("type", "nullable", "server default")  # the order of Schema.columns' values
    for aspect, want, have in zip(aspects, expected[column], actual[column], strict=True):
        if want != have:
            text = (
                f"column {qualified}: {_shown(aspect, want)} in {labels.expected}, "
                f"{_shown(aspect, have)} in {labels.actual}"
            )
            table = qualified.removesuffix(f".{column}")
            finding = Finding(text, "column", objects=[qualified], aspect=aspect, table=table, column=column)
            labels.found.append(finding)


def _item_differences(
    kind: str,
    table: str,
    expected: Mapping[_Key, str | None],
    actual: Mapping[_Key, str | None],
    describe: Callable[[_Key], str],
    labels: _Findings,
) -> None:
    for key in sorted(set(expected) ^ set(actual), key=repr):
        side = labels.expected if key in expected else labels.actual
        name = expected.get(key) or actual.get(key)
        named = f"{kind} {name}" if name else kind
        objects = [table, name] if name else [table]
        labels.only_in(f"{named} on {table} ({describe(key)})", kind.replace(" ", "_"), objects, side)


def _columns(key: tuple[str, ...]) -> str:
    return ", ".join(key)


def _reference(key: ForeignKeyShape) -> str:
    columns, referred_table, referred_columns, options = key
    extra = "".join(f" {k.upper()} {v}" for k, v in options)
    return f"{', '.join(columns)} -> {referred_table}.{', '.join(referred_columns)}{extra}"


def _shown(aspect: str, value: str | bool | None) -> str:
    if aspect == "nullable":
        return "nullable" if value else "NOT NULL"
    if aspect == "type":
        return f"type {value}"
    return f"server default {value!r}" if value is not None else "no server default"
