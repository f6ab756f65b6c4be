"""What each kind of database is, apart from making databases of it (``shadow/``): one class per
dialect, found by SQLAlchemy's dialect name."""

from .default import DefaultImpl, registered
from .mysql import MariaDBImpl, MySQLImpl
from .postgresql import PostgreSQLImpl
from .sqlite import SQLiteImpl

__all__ = ["DefaultImpl", "MariaDBImpl", "MySQLImpl", "PostgreSQLImpl", "SQLiteImpl", "impl_for"]


def impl_for(name: str) -> type[DefaultImpl]:
    """What is known of dialect ``name`` (every dialect's class is registered by its import above)."""
    return registered(name)
