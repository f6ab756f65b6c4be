"""The project adapter: what a run reads of a Flask-Migrate project (its Alembic config, engines,
metadatas and what it gives env.py), on a real app with real SQLite files."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from flask import Flask
from flask_migrate import Migrate  # type: ignore[import-untyped]  # Flask-Migrate ships no type hints
from flask_sqlalchemy import SQLAlchemy

from flask_makemigrations.run.adapter import FlaskMigrate, ProjectAdapter
from flask_makemigrations.run.app_loading import migrate_extension


def _stamp(config: Config) -> Config:
    """A ``Migrate.configure`` callback, as a project writes one."""
    config.set_main_option("stamped_by", "the project")
    return config


@pytest.fixture
def adapter(tmp_path: Path) -> Iterator[FlaskMigrate]:
    app = Flask("adapted")
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'main.db'}"
    app.config["SQLALCHEMY_BINDS"] = {"audit": f"sqlite:///{tmp_path / 'audit.db'}"}
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False  # Flask-SQLAlchemy 2.x warns when it is unset
    db = SQLAlchemy()

    class Entry(db.Model):  # type: ignore[name-defined,misc]
        __bind_key__ = "audit"
        id = db.Column(db.Integer, primary_key=True)

    db.init_app(app)
    migrate = Migrate(app, db, directory="db_migrations", compare_type=True)
    migrate.configure(_stamp)
    with app.app_context():
        adapter = FlaskMigrate(migrate_extension(app))
        yield adapter
        for engine in adapter.engines().values():
            engine.dispose()


def test_the_migrations_directory_is_the_one_migrate_names(adapter: FlaskMigrate) -> None:
    typed: ProjectAdapter = adapter  # the protocol a run reads projects through
    assert typed.directory == "db_migrations"


def test_engines_come_main_database_first_then_each_bind(adapter: FlaskMigrate, tmp_path: Path) -> None:
    engines = adapter.engines()

    assert list(engines) == [None, "audit"]
    assert engines[None].url.database == str(tmp_path / "main.db")
    assert engines["audit"].url.database == str(tmp_path / "audit.db")
    assert list(adapter.metadatas()["audit"].tables) == ["entry"]
    assert list(adapter.metadatas()[None].tables) == []


def test_every_config_starts_from_the_options_the_app_set(adapter: FlaskMigrate, tmp_path: Path) -> None:
    app_set = dict(adapter.state.configure_args)
    # Flask-Migrate's env.py puts its hook into the app-wide options on first use.
    adapter.state.configure_args["process_revision_directives"] = print

    config = adapter.alembic_config(tmp_path / "100%", autogenerate=True)

    assert adapter.state.configure_args == app_set
    assert app_set["compare_type"] is True
    assert config.get_main_option("script_location") == str(tmp_path / "100%")
    assert config.get_main_option("stamped_by") == "the project"
    assert config.cmd_opts is not None and config.cmd_opts.autogenerate is True
    assert not hasattr(adapter.alembic_config(tmp_path).cmd_opts, "autogenerate")


def test_env_settings_leave_out_the_hook_env_py_adds_and_name_the_callbacks(adapter: FlaskMigrate) -> None:
    app_set = dict(adapter.state.configure_args)
    adapter.state.configure_args["process_revision_directives"] = print

    settings = adapter.env_settings()

    assert settings == {"configure_args": app_set, "configure_callbacks": [_stamp]}
    assert app_set["compare_type"] is True
