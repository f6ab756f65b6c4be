"""An abandoned load closes the pooled connections of every engine the app made, on every
Flask-SQLAlchemy line (2.x keeps its engines in connectors, made on first use; 3.x lists them)."""

from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_makemigrations.run.app_loading import dispose_engines


def test_the_apps_pooled_connections_are_closed(tmp_path: Path) -> None:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'pooled.sqlite'}"
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"poolclass": sa.pool.QueuePool}  # SQLAlchemy 1.4: NullPool
    db = SQLAlchemy(app)
    with app.app_context():
        engine = db.get_engine() if not hasattr(db, "engines") else db.engine
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        pool = engine.pool
        assert isinstance(pool, sa.pool.QueuePool) and pool.checkedin() == 1  # pooled, open

    dispose_engines(app)

    assert pool.checkedin() == 0  # disposed: the engine has a new, empty pool
