"""The connection guard's notion of "the same database", for each driver's connect arguments."""

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchModuleError

from flask_makemigrations.run.guard import ConnectionGuard
from flask_makemigrations.shadow.database import ShadowDatabase


@pytest.mark.parametrize(
    "url",
    [
        "mysql+mysqldb://u:p@db.example:3306/{}",  # mysqlclient names the database "db"
        "mysql+pymysql://u:p@db.example:3306/{}",
        "postgresql+psycopg2://u:p@db.example:5432/{}",
        "postgresql+psycopg://u:p@db.example:5432/{}",
    ],
)
def test_another_database_on_the_shadow_databases_server_is_not_the_shadow(url, tmp_path):
    shadow_url = make_url(url.format("fmm_shadow_x"))
    guard = ConnectionGuard(ShadowDatabase(shadow_url, Path(tmp_path), "test"), hint="")
    try:
        dialect = shadow_url.get_dialect()()
    except NoSuchModuleError:  # psycopg 3's dialect is new in SQLAlchemy 2.0
        pytest.skip(f"this SQLAlchemy has no {shadow_url.drivername} dialect")

    assert guard.is_shadow(dialect, *dialect.create_connect_args(shadow_url))
    production = make_url(url.format("production"))
    assert not guard.is_shadow(dialect, *dialect.create_connect_args(production))
