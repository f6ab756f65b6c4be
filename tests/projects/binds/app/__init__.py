"""An app with three databases: the main one and two Flask-SQLAlchemy binds, ``audit`` and
``analytics``. Each URL comes from the environment, with a SQLite file as the developer's default."""

import os

from flask import Flask

from .extensions import db, migrate


def create_app():
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL", "sqlite:///app.db"),
        SQLALCHEMY_BINDS={
            "audit": os.environ.get("AUDIT_DATABASE_URL", "sqlite:///audit.db"),
            "analytics": os.environ.get("ANALYTICS_DATABASE_URL", "sqlite:///analytics.db"),
        },
    )
    db.init_app(app)
    migrate.init_app(app, db)

    from . import models  # noqa: F401  (registers the tables on each bind's metadata)

    return app
