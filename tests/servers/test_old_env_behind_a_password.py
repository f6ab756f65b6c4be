"""The ``env.py`` of Flask-Migrate 2.x (``flask db init`` writes it once; projects keep it through
every upgrade) on a server whose URL carries a password, as ``--database`` gives it.

Two of its habits break there, and ``flask db upgrade`` breaks the same way with that URL: the run
says which habit and the one-line change to ``env.py``, instead of the driver's "password
authentication failed" or ConfigParser's "invalid interpolation syntax".
"""

import shutil

from conftest import TESTS, ProjectCopy
from server_backends import ServerUnderTest, on_every_server
from server_runs import make, refused
from sqlalchemy.engine import make_url

TEMPLATES = TESTS / "env_templates"

#: Whether ``str(url)`` hides the password (SQLAlchemy 2.0 and later), asked of SQLAlchemy itself.
STR_HIDES_PASSWORDS = "***" in str(make_url("postgresql://someone:secret@localhost/db"))


@on_every_server()
def test_an_engine_made_from_str_of_the_url_is_told_how_to_keep_the_password(
    project: ProjectCopy, server: ServerUnderTest
) -> None:
    """Flask-Migrate 2.5's ``env.py`` builds its own engine from ``str(db.engine.url)``."""
    shutil.copyfile(TEMPLATES / "flask-migrate-2.5.3.py", project.migrations / "env.py")
    project.add_email_column()

    if STR_HIDES_PASSWORDS:
        refused(project, server, "env.py", "'***'", "str(", "render_as_string(hide_password=False)")
    else:  # SQLAlchemy 1.4 writes the password: the template works as it is
        assert make(project, server, check=True).operations == ["+ column user.email"]


@on_every_server()
def test_a_percent_left_single_in_the_alembic_config_is_told_to_be_doubled(
    project: ProjectCopy, server: ServerUnderTest
) -> None:
    """Flask-Migrate 2.0's ``env.py`` hands the app's URL to Alembic's config as it is; a password
    that a URL must quote (``@``, ``%``) puts a ``%`` in it, which ConfigParser reads as the start
    of an interpolation."""
    assert "%" in server.url_string()
    shutil.copyfile(TEMPLATES / "flask-migrate-2.0.0.py", project.migrations / "env.py")

    refused(project, server, "migrations/env.py", "'%'", ".replace('%', '%%')")
