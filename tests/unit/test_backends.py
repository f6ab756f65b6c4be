"""The shadow backends: ``--database`` parsed once into one of them, and each one's notion of "the same
database" for every driver's connect arguments (what the connection guard relies on)."""

from pathlib import Path

import pytest
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import NoSuchModuleError

from flask_makemigrations.dialects import DefaultImpl, MariaDBImpl, MySQLImpl
from flask_makemigrations.errors import UsageError
from flask_makemigrations.run.guard import reaches
from flask_makemigrations.shadow.backend import ShadowDatabase
from flask_makemigrations.shadow.backends import SERVERS, parse_database
from flask_makemigrations.shadow.backends.postgresql import PostgreSQL
from flask_makemigrations.shadow.backends.sqlite import SQLiteFile, SQLiteMemory
from flask_makemigrations.shadow.server import CONNECT_TIMEOUT


def test_each_form_names_its_backend_and_the_second_database_never_takes_a_users_path(tmp_path: Path) -> None:
    temporary, memory = parse_database(None), parse_database(":memory:")
    file = parse_database(str(tmp_path / "shadow.sqlite"))
    server = parse_database("postgresql://u:secret@localhost:5432/postgres")

    assert (temporary, memory, file) == (SQLiteFile(), SQLiteMemory(), SQLiteFile(tmp_path / "shadow.sqlite"))
    assert isinstance(server, PostgreSQL) and server.url.database == "postgres"
    assert parse_database("relative.sqlite") == SQLiteFile(Path.cwd() / "relative.sqlite")
    assert file.second() == temporary.second() == SQLiteFile()
    assert memory.second() == memory and server.second() == server


def test_a_postgresql_url_without_a_connect_timeout_gets_the_tools_own() -> None:
    """A server that never answers must not hang a run (its cleanup ignores Ctrl-C): the wait is
    bounded unless the URL bounds it itself. That libpq honours the bound, and what a run says when it
    is reached, is tests/servers/test_conformance.py's."""
    for driver in ("postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        bare, bounded = (
            PostgreSQL(make_url(f"{driver}://u@h/d")),
            PostgreSQL(make_url(f"{driver}://u@h/d?connect_timeout=3")),
        )
        assert bare.admin_connect_args() == {"connect_timeout": CONNECT_TIMEOUT}
        assert bounded.admin_connect_args() == {}


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("postgresql://u:secret@host:notaport/db", "not a database URL (...@host:notaport/db)"),
        ("sqlite:///x.db", "for SQLite give a file path or :memory:, not a URL"),
        (
            "oracle://u:secret@host/db",
            "oracle servers are not supported yet (supported: postgresql, mysql, mariadb)",
        ),
    ],
)
def test_unusable_urls_are_refused_without_their_password(given: str, complaint: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_database(given)
    assert str(refused.value) == f"--database: {complaint}"
    assert "secret" not in str(refused.value)


def _dialect(url: URL) -> Dialect:
    try:
        return url.get_dialect()()
    except NoSuchModuleError:  # psycopg 3's dialect is new in SQLAlchemy 2.0
        pytest.skip(f"this SQLAlchemy has no {url.drivername} dialect")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://u:p@db.example:5432/{}",
        "postgresql+psycopg://u:p@db.example:5432/{}",
        "postgresql+pg8000://u:p@db.example:5432/{}",  # pg8000 names the database "database"
    ],
)
def test_another_database_on_the_shadow_databases_server_is_not_the_shadow(url: str, tmp_path: Path) -> None:
    shadow_url = make_url(url.format("fmm_shadow_x"))
    backend = PostgreSQL(make_url(url.format("postgres")))
    shadow = ShadowDatabase(shadow_url, Path(tmp_path), backend)
    dialect = _dialect(shadow_url)

    assert reaches(shadow, dialect, *dialect.create_connect_args(shadow_url))
    production = make_url(url.format("production"))
    assert not reaches(shadow, dialect, *dialect.create_connect_args(production))
    other_port = make_url(url.format("fmm_shadow_x")).set(port=5433)
    assert not reaches(shadow, dialect, *dialect.create_connect_args(other_port))


@pytest.mark.parametrize(
    ("known", "url"),
    [
        (MySQLImpl, "mysql+mysqldb://u:p@db.example:3306/{}"),  # mysqlclient names the database "db"
        (MySQLImpl, "mysql+pymysql://u:p@db.example:3306/{}"),  # PyMySQL "database"
        (MySQLImpl, "mysql+mariadbconnector://u:p@db.example:3306/{}"),
        (MariaDBImpl, "mariadb+pymysql://u:p@db.example:3306/{}"),
        (DefaultImpl, "mysql+pymysql://u:p@db.example:3306/{}"),  # what a new dialect inherits
    ],
)
def test_another_database_on_a_mysql_server_is_not_the_shadow(
    known: type[DefaultImpl], url: str, tmp_path: Path
) -> None:
    shadow_url, production = make_url(url.format("fmm_shadow_x")), make_url(url.format("production"))
    dialect = _dialect(shadow_url)
    assert known.identity(*dialect.create_connect_args(shadow_url)) != known.identity(
        *dialect.create_connect_args(production)
    )
    if known is not DefaultImpl:
        shadow = ShadowDatabase(shadow_url, Path(tmp_path), SERVERS[known.name](production))
        assert reaches(shadow, dialect, *dialect.create_connect_args(shadow_url))
        assert not reaches(shadow, dialect, *dialect.create_connect_args(production))
