"""Autogenerate extensions in ``env.py``, run exactly as ``flask db migrate`` runs them: alembic-utils'
replaceable entities (a view and a function) on a real PostgreSQL server.

Real ``invoke`` processes: importing alembic-utils registers its comparators in Alembic for the
whole process.
"""

import pytest
from conftest import ProjectCopy, Run
from pg_cluster import Cluster

ENTITIES = '''"""The database's views and functions, declared for alembic-utils."""

from alembic_utils.pg_function import PGFunction
from alembic_utils.pg_view import PGView

user_names = PGView(
    schema="public",
    signature="user_names",
    definition='SELECT id, username FROM "user"',
)
shout = PGFunction(
    schema="public",
    signature="shout(words text)",
    definition="RETURNS text AS $$ SELECT upper(words) $$ LANGUAGE SQL",
)
'''


@pytest.fixture
def entities(project: ProjectCopy) -> ProjectCopy:
    project.write("app/entities.py", ENTITIES)
    project.edit(
        "migrations/env.py",
        "import logging",
        "import logging\n\nfrom alembic_utils.replaceable_entity import register_entities\n\n"
        "from app.entities import shout, user_names\n\nregister_entities([user_names, shout])",
    )
    return project


def run(project: ProjectCopy, postgres: Cluster, *args: str) -> Run:
    """A real ``invoke makemigrations`` run: env.py imports the library, which registers its comparators
    with Alembic for the rest of the process, so it must not run in the test's own."""
    return project.invoke("makemigrations", *args, "--database", postgres.url_string())


def test_views_and_functions_are_created_replaced_and_verified(
    entities: ProjectCopy, postgres: Cluster
) -> None:
    project = entities
    before = project.revision_files()
    created = run(project, postgres, "-m", "entities")
    assert created.returncode == 0, created.stderr
    (new,) = project.new_revisions(before)
    text = new.read_text()
    assert "op.create_entity(public_user_names)" in text and "op.create_entity(public_shout)" in text
    assert "from alembic_utils.pg_view import PGView" in text  # the library's own imports

    synced = run(project, postgres, "--check")
    assert synced.returncode == 0, synced.stderr
    assert "No changes detected" in synced.stdout and "Warning" not in synced.stderr

    project.edit("app/entities.py", "SELECT id, username", "SELECT id, upper(username) AS username")
    before = project.revision_files()
    replaced = run(project, postgres, "-m", "view body")
    assert replaced.returncode == 0, replaced.stderr
    (new,) = project.new_revisions(before)
    assert new.read_text().count("op.replace_entity(") == 2  # the new body up, the old one down
    assert "Warning" not in replaced.stderr

    verified = project.invoke("verify", "--database", postgres.url_string())
    assert verified.returncode == 0, verified.stderr
