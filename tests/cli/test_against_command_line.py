"""``--against REF`` in every front end: the heads and the tables both sides change as warnings, exit
status 1 and the ``against`` key of ``--format json``; a ref git does not know is one ``Error:`` line
and status 2. Real processes in a real git repository (``git_branches.py``)."""

import json
import sys
from pathlib import Path

import pytest
from conftest import HEAD, ProjectCopy
from git_branches import blank_revisions_on_both, checkout, commit_all, git, init_repository

#: Real processes through this package's front ends and report; what the engine does under them is
#: tested in process in every session (tests/engine/test_against.py).
pytestmark = pytest.mark.version_independent

BIN = Path(sys.executable).parent
FRONT_ENDS = {
    "invoke": [sys.executable, "-m", "invoke", "-r", str(Path(__file__).resolve().parents[2])],
    "python -m": [sys.executable, "-m", "flask_makemigrations"],
    "flask": [str(BIN / "flask"), "makemigrations"],
}
MERGE = {
    "invoke": "'invoke merge'",
    "python -m": "'python -m flask_makemigrations merge'",
    "flask": "'flask makemigrations merge'",
}


def check(front: str) -> list[str]:
    """The main job with --check, as each front end spells it."""
    return [*FRONT_ENDS[front], *(["makemigrations"] if front == "invoke" else []), "--check"]


def verify(front: str) -> list[str]:
    return [*FRONT_ENDS[front], "verify"]


@pytest.fixture
def diverged(project: ProjectCopy) -> ProjectCopy:
    """``main`` and ``feature`` each add a revision on the same parent, both changing table user;
    ``feature`` (whose models have user.email) is checked out."""
    init_repository(project)
    git(project, "branch", "feature")
    project.add_revision(
        "0003_main",
        HEAD,
        "    op.create_index('ix_user_username', 'user', ['username'])",
        downgrade="    op.drop_index('ix_user_username', table_name='user')",
    )
    commit_all(project, "main indexes user.username")
    checkout(project, "feature")
    project.add_email_column()
    project.add_revision(
        "0003_email",
        HEAD,
        "    op.add_column('user', sa.Column('email', sa.String(length=120), nullable=True))",
        downgrade="    op.drop_column('user', 'email')",
    )
    commit_all(project, "feature adds user.email")
    return project


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_check_and_verify_against_the_target_fail_with_the_heads_and_the_table(
    diverged: ProjectCopy, front: str
) -> None:
    for command in (check(front), verify(front)):
        result = diverged.run([*command, "--against", "main"])

        assert result.returncode == 1, result.stderr
        warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
        assert warnings == [
            "Warning: merging main would leave the history with 2 heads: 0003_email "
            "(migrations/versions/0003_email.py) on this branch, 0003_main "
            "(migrations/versions/0003_main.py) on main; merge main into this branch, then join them "
            f"with {MERGE[front]}",
            "Warning: both this branch (0003_email, migrations/versions/0003_email.py) and main "
            "(0003_main, migrations/versions/0003_main.py) change table user: verify the history "
            "once they are merged",
        ]
        assert result.stderr.splitlines()[-1] == (
            "The migrations of this branch and main conflict: see the warnings above"
        )


def test_json_has_the_heads_and_the_conflicts(diverged: ProjectCopy) -> None:
    result = diverged.run([*check("python -m"), "--against", "main", "--format", "json"])

    assert result.returncode == 1, result.stderr
    found = json.loads(result.stdout)
    assert found["status"] == "branch-conflict" and found["exit_status"] == 1
    assert found["against"] == {
        "ref": "main",
        "heads": [
            {"revision": "0003_email", "path": "migrations/versions/0003_email.py", "side": "this branch"},
            {"revision": "0003_main", "path": "migrations/versions/0003_main.py", "side": "main"},
        ],
        "conflicts": [
            {
                "table": "user",
                "this_branch": [{"revision": "0003_email", "path": "migrations/versions/0003_email.py"}],
                "target": [{"revision": "0003_main", "path": "migrations/versions/0003_main.py"}],
            }
        ],
    }
    assert [warning["kind"] for warning in found["warnings"]] == ["branch_heads", "branch_conflict"]
    assert found["warnings"][1]["table"] == "user"

    verified = diverged.run([*verify("python -m"), "--against", "main", "--format", "json"])
    assert verified.returncode == 1, verified.stderr
    found = json.loads(verified.stdout)
    assert found["status"] == "branch-conflict" and len(found["against"]["heads"]) == 2


def test_without_against_the_json_says_null(project: ProjectCopy) -> None:
    result = project.run([*check("python -m"), "--format", "json"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["against"] is None


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_a_ref_git_does_not_know_is_one_line(project: ProjectCopy, front: str) -> None:
    init_repository(project)

    error = project.refuses_command([*check(front), "--against", "origin/nope"])

    assert error == (
        "Error: --against 'origin/nope': git knows no such branch, tag or commit here (a remote's "
        "branch is known once fetched: git fetch <remote> <branch>)"
    )
    assert project.leftovers() == []


def test_rebase_through_a_front_end(project: ProjectCopy) -> None:
    """``rebase --onto`` moves the branch's revision after main's and says so; the next run has nothing
    to do."""
    blank_revisions_on_both(project, {"0003_main": HEAD}, {"0003_email": HEAD})
    rebase = [*FRONT_ENDS["python -m"], "rebase", "--onto", "main"]

    done = project.run(rebase)

    assert done.returncode == 0, done.stderr
    assert done.stdout == "migrations/versions/0003_email.py\n"
    assert done.stderr.splitlines() == [
        "Rebased 1 revision(s) of this branch onto main's head 0003_main: 0003_email "
        f"(migrations/versions/0003_email.py) revises 0003_main instead of {HEAD}",
        "Proven on the shadow database: after 0003_main, 1 revision(s) of this branch upgrade, downgrade "
        "and upgrade again, and the new head matches the models (2 table(s))",
        "Note: a database where this branch's revisions (0003_email) were applied must be downgraded to "
        f"{HEAD} with the old files before it upgrades with these: their parent changed",
    ]
    commit_all(project, "feature's revision rebased")
    git(project, "merge", "-q", "--no-edit", "main")  # the revision it now revises
    again = project.run(rebase)
    assert (again.returncode, again.stdout) == (
        0,
        "Nothing to rebase: this branch's revisions already follow main's head 0003_main\n",
    )


def test_rebase_without_onto_is_one_line(project: ProjectCopy) -> None:
    error = project.refuses_command([*FRONT_ENDS["flask"], "rebase"])

    assert error == (
        "Error: rebase needs --onto REF: the git ref whose head this branch's revisions are to follow "
        "(e.g. origin/main)"
    )
