"""Another team's Flask app: a factory in its own package, reading its URL from the environment."""

import os

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

import tasks

if getattr(tasks, "OWNER", None) != "foreign project":
    raise RuntimeError(f"imported the wrong tasks module: {tasks.__file__}")

db = SQLAlchemy()
migrate = Migrate()


def create_app(flavour="mypkg", url_env="DATABASE_URL"):
    """``flavour`` names the one table, so a run's output shows which app it loaded."""
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(url_env, f"sqlite:///{flavour}.db")

    class Thing(db.Model):
        __tablename__ = f"{flavour}_thing"
        id = db.Column(db.Integer, primary_key=True)

    db.init_app(app)
    migrate.init_app(app, db)
    return app
