"""The example application: a Flask app factory with Flask-SQLAlchemy and Flask-Migrate.

It reads its database URL from the environment so that tools (and ``invoke makemigrations``)
can point it at another database without editing code.
"""

import os

from flask import Flask

from .extensions import db, migrate


def create_app(test_config=None):
    """Build the app; ``DATABASE_URL`` wins, else a SQLite file in the instance folder."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL", "sqlite:///app.db"),
    )
    if test_config is not None:
        app.config.from_mapping(test_config)

    db.init_app(app)
    migrate.init_app(app, db)

    from . import models  # noqa: F401  (registers the tables on db.metadata)

    return app
