"""Column types of other packages (sqlalchemy-utils' ``UUIDType``, the app's own ``TypeDecorator``s):
the imports the revision needs for them, and the ones whose rendering would not rebuild them.

Autogenerate renders such a type as its module's path and its ``repr()``
(``sqlalchemy_utils.types.uuid.UUIDType(binary=False)``) and imports nothing, so the revision fails
with a ``NameError`` when it is applied. Where Alembic renders it that way (``env.py`` sets neither
``user_module_prefix`` nor a ``render_item``), the revision imports each such module. A ``repr()``
that does not rebuild the type (``ChoiceType(length=255)`` for a type that takes ``choices``) would
fail even so: each is rebuilt from its ``repr()`` here, and one that does not come back the same is
reported with the type the database stores, to write instead.
"""

import builtins
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from ..compat import variant_types
from ..findings import Finding
from .operations import flatten


@dataclass(frozen=True)
class CustomType:
    """A column type of another package, where an operation uses it."""

    type_: TypeEngine[Any]
    table: str
    column: str

    @property
    def module(self) -> str:
        return type(self.type_).__module__

    @property
    def rendered(self) -> str:
        """What Alembic writes for it, without ``user_module_prefix``."""
        return f"{self.module}.{self.type_!r}"


def custom_types(containers: Iterable[ops.OpContainer]) -> list[CustomType]:
    """Every type of another package that these operations render."""
    found: dict[tuple[str, str, str], CustomType] = {}
    for container in containers:
        for table, column, type_ in _column_types(flatten(container.ops)):
            for inner in _rendered_types(type_):
                if (
                    not type(inner).__module__.startswith("sqlalchemy.")
                    and type(inner).__module__ != "__main__"
                ):
                    found.setdefault((table, column, repr(inner)), CustomType(inner, table, column))
    return list(found.values())


def _column_types(operations: Iterator[ops.MigrateOperation]) -> Iterator[tuple[str, str, TypeEngine[Any]]]:
    for op in operations:
        if isinstance(op, ops.CreateTableOp):
            for column in op.columns:
                if isinstance(column, sa.Column):
                    yield op.table_name, column.name, column.type
        elif isinstance(op, ops.AddColumnOp):
            yield op.table_name, op.column.name, op.column.type
        elif isinstance(op, ops.AlterColumnOp):
            for type_ in (op.modify_type, op.existing_type):
                if isinstance(type_, TypeEngine):
                    yield op.table_name, op.column_name, type_


def _rendered_types(type_: TypeEngine[Any]) -> Iterator[TypeEngine[Any]]:
    """The type and those Alembic renders inside it: an ARRAY's items, a variant's types."""
    yield type_
    item = getattr(type_, "item_type", None)
    if isinstance(item, TypeEngine):
        yield from _rendered_types(item)
    for variant in variant_types(type_):
        yield from _rendered_types(variant)


def renders_by_module(context_opts: dict[str, Any]) -> bool:
    """Whether Alembic renders other packages' types by their module's path (so they need it
    imported): not when ``env.py`` renders them itself."""
    return context_opts.get("user_module_prefix") is None and context_opts.get("render_item") is None


def imports_for(types: list[CustomType]) -> set[str]:
    """The import lines that make the rendered types' module paths resolve."""
    return {f"import {custom.module}" for custom in types}


def unrebuildable(types: list[CustomType], dialect: Dialect) -> list[Finding]:
    """A warning for each type whose rendering does not rebuild it, with what to write instead."""
    warnings = []
    for custom in types:
        problem = _rebuild_problem(custom.type_, dialect)
        if problem is None:
            continue
        instead = _stored_as(custom.type_)
        text = (
            f"column {custom.table}.{custom.column}: its type renders as {custom.rendered}, which {problem}; "
            + (f"write the type it is stored as, {instead}, in the revision instead, or " if instead else "")
            + f"give {type(custom.type_).__name__} a __repr__ that rebuilds it (or render it in env.py's "
            "render_item)"
        )
        warnings.append(
            Finding(text, "unrenderable_type", table=custom.table, column=custom.column, write=instead)
        )
    return warnings


def _rebuild_problem(type_: TypeEngine[Any], dialect: Dialect) -> str | None:
    """Why the type's ``repr()``, evaluated as the revision evaluates it, does not give it back."""
    cls = type(type_)
    namespace = {"__builtins__": builtins, cls.__name__: cls, "sa": sa}
    try:
        rebuilt = eval(repr(type_), namespace)  # noqa: S307 (the app's own type's repr, as the revision runs it)
    except Exception as exc:
        return f"fails to rebuild it ({type(exc).__name__}: {exc})"
    if type(rebuilt) is not cls:
        return f"builds a {type(rebuilt).__name__} instead"
    before, after = _compiled(type_, dialect), _compiled(rebuilt, dialect)
    if before != after:
        return f"builds {after} instead of {before}"
    return None


def _compiled(type_: TypeEngine[Any], dialect: Dialect) -> str:
    try:
        return str(type_.compile(dialect=dialect))
    except Exception as exc:  # a type this dialect cannot render: compare what it says
        return f"<{type(exc).__name__}: {exc}>"


def _stored_as(type_: TypeEngine[Any]) -> str | None:
    """A decorator's underlying type, as autogenerate writes a SQLAlchemy one (``sa.Unicode(...)``,
    ``postgresql.UUID()``)."""
    impl = getattr(type_, "impl", None) if isinstance(type_, TypeDecorator) else None
    module = type(impl).__module__
    if not isinstance(impl, TypeEngine) or not module.startswith("sqlalchemy."):
        return None
    dialect = re.match(r"sqlalchemy\.dialects\.(\w+)", module)
    return f"{dialect.group(1) if dialect else 'sa'}.{impl!r}"
