"""Another team's project (``tests/projects/foreign``), run as its README says:
``invoke -r <this repository> makemigrations ...`` from inside that project's directory.

That project has its own ``tasks`` module and ``app`` package, like the tool's repository, and its
apps name their one table after how they were loaded (``<flavour>_thing``), so ``--check`` output
shows which app a run used.
"""

import shutil
import subprocess
import sys

import pytest
from conftest import ProjectCopy

MYPKG_URL = "mypkg:create_app(url_env='MYPKG_URL')"


def table(flavour: str) -> str:
    return f"+ table {flavour}_thing\n"


def test_loads_its_own_package_tasks_module_and_migrations(foreign_project: ProjectCopy) -> None:
    result = foreign_project.invoke("makemigrations", "--app", "mypkg:create_app", "-m", "initial")

    assert result.returncode == 0, result.stderr
    (new,) = foreign_project.new_revisions([])
    assert result.stdout.splitlines() == [f"migrations/versions/{new.name}", "  + table mypkg_thing"]
    assert "op.create_table('mypkg_thing'" in new.read_text()
    again = foreign_project.invoke("makemigrations", "--app", "mypkg:create_app", "-m", "again")
    assert again.stdout == "No changes detected\n", again.stderr


@pytest.mark.parametrize(
    ("options", "flask_app", "flavour"),
    [
        ([], None, "wsgi"),
        ([], "mypkg", "mypkg"),
        ([], "mypkg:create_app('env')", "env"),
        (["--app", "mypkg:create_app('option')"], "mypkg", "option"),
        (["--app", "wsgi.py"], "mypkg", "wsgi"),
    ],
    ids=["default-discovery", "FLASK_APP", "FLASK_APP-factory-call", "--app-over-FLASK_APP", "--app-file"],
)
def test_which_app_is_loaded(
    foreign_project: ProjectCopy, options: list[str], flask_app: str | None, flavour: str
) -> None:
    """``--app``, then ``FLASK_APP``, then Flask's default discovery (``wsgi.py``, which imports the
    project's own ``app`` package)."""
    env = {"FLASK_APP": flask_app} if flask_app else {}
    result = foreign_project.invoke("makemigrations", "--check", *options, env=env)
    assert result.returncode == 1, result.stderr
    assert result.stdout == table(flavour)


def test_the_tool_repositorys_example_app_never_leaks_in(foreign_project: ProjectCopy) -> None:
    """With nothing to discover, discovery fails: it must not find the tool repository's ``app``."""
    (foreign_project.root / "wsgi.py").unlink()
    shutil.rmtree(foreign_project.root / "app")
    error = foreign_project.refuses("makemigrations", "--check")
    assert "could not load the Flask app" in error and "Could not locate a Flask application" in error


def test_app_reading_another_variable_needs_no_url_env(foreign_project: ProjectCopy) -> None:
    """Its own default, a file in its instance folder, is redirected: never created."""
    result = foreign_project.invoke("makemigrations", "--check", "--app", MYPKG_URL)
    assert result.returncode == 1, result.stderr
    assert result.stdout == table("mypkg")
    assert not (foreign_project.root / "instance").exists()


@pytest.mark.parametrize(
    ("options", "env", "user_config"),
    [
        (["--url-env", "MYPKG_URL"], {}, None),
        ([], {"INVOKE_MAKEMIGRATIONS_URL_ENV": "MYPKG_URL"}, None),
        ([], {}, "MYPKG_URL"),
        (["--url-env", "MYPKG_URL"], {"INVOKE_MAKEMIGRATIONS_URL_ENV": "WRONG"}, "WRONG"),
    ],
    ids=["--url-env", "invoke-env-config", "invoke-user-config", "--url-env-over-config"],
)
def test_url_env_from_option_or_invoke_configuration(
    foreign_project: ProjectCopy, options: list[str], env: dict[str, str], user_config: str | None
) -> None:
    if user_config:
        (foreign_project.home / ".invoke.yaml").write_text(f"makemigrations:\n  url_env: {user_config}\n")
    result = foreign_project.invoke("makemigrations", "--check", "--app", MYPKG_URL, *options, env=env)
    assert result.returncode == 1, result.stderr
    assert result.stdout == table("mypkg")


def test_tasks_imported_into_the_projects_own_tasks_file(foreign_project: ProjectCopy) -> None:
    """The other way README gives: the project's own ``tasks.py`` imports the tasks (no ``-r``)."""
    own_tasks = (foreign_project.root / "tasks.py").read_text()
    foreign_project.write(
        "tasks.py", own_tasks + "\nfrom flask_makemigrations.invoke_tasks import ns  # noqa\n"
    )
    command = [sys.executable, "-m", "invoke", "makemigrations", "--app", "mypkg:create_app", "--check"]

    done = subprocess.run(
        command, cwd=foreign_project.root, env=foreign_project.environment(), capture_output=True, text=True
    )

    assert done.returncode == 1, done.stderr
    assert done.stdout == table("mypkg")
