"""The package's public API: the names ``__all__`` exports, each the engine's own object, imported on
first use, and typed for a user's type checker (``py.typed``, and imports a checker reads)."""

import subprocess
import sys
from pathlib import Path

import pytest

import flask_makemigrations

#: A user's module that uses the API as README shows it, for their type checker.
USER_CODE = """
from flask_makemigrations import MakemigrationsError, Mode, Result, make_migrations

reveal_type(make_migrations)
reveal_type(Result)
reveal_type(Mode)
reveal_type(MakemigrationsError)
"""

#: The user's mypy configuration: this package's modules followed, the libraries under it skipped (a
#: name of theirs is ``Any``). What the test asks is the package's own types, which need ``py.typed``
#: all the same; checking Flask, SQLAlchemy and Alembic too would take five times as long.
USER_CONFIG = """
[mypy]
follow_imports = skip
[mypy-flask_makemigrations.*]
follow_imports = normal
"""


def test_every_exported_name_is_the_engines_own_object() -> None:
    for name in flask_makemigrations.__all__:
        exported = getattr(flask_makemigrations, name)
        assert exported.__name__ == name
        assert exported.__module__.startswith("flask_makemigrations.")


def test_a_name_that_is_not_exported_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'api_internals'"):
        flask_makemigrations.api_internals  # noqa: B018


@pytest.mark.version_independent  # the package's own imports
def test_importing_the_package_imports_no_engine_module() -> None:
    """A front end checks the installed libraries before the engine imports them (``requirements``)."""
    code = "import sys, flask_makemigrations; print([m for m in sys.modules if m.startswith('flask_')])"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "['flask_makemigrations']"


@pytest.mark.version_independent  # the package's own exports and marker
def test_a_users_type_checker_sees_the_real_types(tmp_path: Path) -> None:
    """Without ``py.typed`` mypy skips the installed package and every name is ``Any``."""
    user = tmp_path / "user.py"
    user.write_text(USER_CODE)
    (tmp_path / "mypy.ini").write_text(USER_CONFIG)
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), str(user)]

    checked = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)

    revealed = [line for line in checked.stdout.splitlines() if "Revealed type" in line]
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert len(revealed) == 4 and not any('"Any"' in line for line in revealed), checked.stdout
    assert "-> flask_makemigrations.api.makemigrations.Result" in revealed[0]
