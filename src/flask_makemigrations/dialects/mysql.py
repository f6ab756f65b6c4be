"""MySQL and MariaDB: their drivers' names for the database (PyMySQL, mysqlclient, the MariaDB
connector). A ``mariadb://`` URL is SQLAlchemy's MariaDB dialect, under a name of its own."""

from typing import ClassVar

from .default import DefaultImpl


class MySQLImpl(DefaultImpl):
    name = "mysql"
    #: mysqlclient names the database ``db``, PyMySQL and the MariaDB connector ``database``.
    identifying_params: ClassVar[tuple[str, ...]] = ("host", "port", "db", "database", "unix_socket")
    database_params: ClassVar[tuple[str, ...]] = ("db", "database")


class MariaDBImpl(MySQLImpl):
    name = "mariadb"
