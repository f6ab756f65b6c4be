"""``--against REF``: the history merged with a target branch's, read from git without checking it
out, must have one head, and the two sides must not change the same table. Real git repositories
(``git_branches.py``) holding a copy of the example project; the engine's API in this process."""

from pathlib import Path

from conftest import HEAD, ProjectCopy, findings
from git_branches import checkout, commit_all, git, init_repository, on_branch

from flask_makemigrations import Project, Verified, merge_heads, verify_history

ADD_EMAIL = "    op.add_column('user', sa.Column('email', sa.String(length=120), nullable=True))"
DROP_EMAIL = "    op.drop_column('user', 'email')"
INDEX_USERNAME = "    op.create_index('ix_user_username', 'user', ['username'])"
UNINDEX_USERNAME = "    op.drop_index('ix_user_username', table_name='user')"


def diverged(project: ProjectCopy, commit_feature: bool = True) -> None:
    """``main`` and ``feature`` each add one revision on the same parent, that changes nothing (so
    the models still match); ``feature`` is checked out, its revision committed or left untracked."""
    init_repository(project)
    git(project, "branch", "feature")
    project.add_revision("0003_main", HEAD)
    commit_all(project, "main's revision")
    checkout(project, "feature")
    project.add_revision("0003_feature", HEAD)
    if commit_feature:
        commit_all(project, "feature's revision")


def test_two_branches_with_a_revision_each_on_the_same_parent_fail_naming_both(
    project: ProjectCopy,
) -> None:
    diverged(project)

    result = project.make_migrations(check=True, against="main")

    against = result.against
    assert against is not None and against.ref == "main"
    assert sorted((head.revision, head.side) for head in against.heads) == [
        ("0003_feature", "this branch"),
        ("0003_main", "main"),
    ]
    (heads,) = [finding for finding in findings(result.warnings) if finding.kind == "branch_heads"]
    assert "0003_feature (migrations/versions/0003_feature.py) on this branch" in heads
    assert "0003_main (migrations/versions/0003_main.py) on main" in heads
    assert result.operations == [] and result.differences == []
    assert not (project.versions / "0003_main.py").exists()  # read from git, never checked out


def test_merged_with_the_merge_task_the_check_passes(project: ProjectCopy) -> None:
    diverged(project)
    git(project, "merge", "-q", "--no-edit", "main")
    with project.inside():
        merge_heads(Project(), "merge main", "0004_merge")

    result = project.make_migrations(check=True, against="main")

    assert result.against is not None
    assert [(head.revision, head.side) for head in result.against.heads] == [("0004_merge", "this branch")]
    assert result.warnings == [] and result.against.findings == []


def test_uncommitted_revision_files_are_this_branchs(project: ProjectCopy) -> None:
    diverged(project, commit_feature=False)
    assert git(project, "status", "--porcelain") == "?? migrations/versions/0003_feature.py"

    verified = verify(project, "main")

    assert verified.against is not None
    assert sorted((head.revision, head.side) for head in verified.against.heads) == [
        ("0003_feature", "this branch"),
        ("0003_main", "main"),
    ]


def test_both_sides_changing_the_same_table_is_a_finding(project: ProjectCopy) -> None:
    """git merges the two files cleanly: both change table user, which only the revisions say."""
    init_repository(project)
    git(project, "branch", "feature")
    project.add_revision("0003_main", HEAD, INDEX_USERNAME, downgrade=UNINDEX_USERNAME)
    commit_all(project, "main indexes user.username")
    checkout(project, "feature")
    project.add_email_column()
    project.add_revision("0003_email", HEAD, ADD_EMAIL, downgrade=DROP_EMAIL)
    commit_all(project, "feature adds user.email")

    result = project.make_migrations(check=True, against="main", verify=False)

    assert result.against is not None
    (conflict,) = result.against.conflicts
    assert conflict.table == "user"
    assert [placed.revision for placed in conflict.this_branch] == ["0003_email"]
    assert [placed.revision for placed in conflict.target] == ["0003_main"]
    kinds = sorted(finding.kind for finding in findings(result.warnings))
    assert kinds == ["branch_conflict", "branch_heads"]
    (found,) = [finding for finding in findings(result.warnings) if finding.kind == "branch_conflict"]
    assert found.fields == {"table": "user", "objects": ["user"]}
    assert found == (
        "both this branch (0003_email, migrations/versions/0003_email.py) and main (0003_main, "
        "migrations/versions/0003_main.py) change table user: verify the history once they are merged"
    )


def test_a_target_that_moved_by_several_revisions_without_conflict_passes(project: ProjectCopy) -> None:
    init_repository(project)
    on_branch(project, "feature")
    project.write("app/notes.txt", "a change that is not a migration\n")
    commit_all(project, "feature's work")
    checkout(project, "main")
    for number, parent in (("0003", HEAD), ("0004", "0003_main"), ("0005", "0004_main")):
        project.add_revision(f"{number}_main", parent)
    commit_all(project, "main moves on")
    checkout(project, "feature")

    result = project.make_migrations(check=True, against="main")

    assert result.against is not None
    assert [(head.revision, head.side) for head in result.against.heads] == [("0005_main", "main")]
    assert result.warnings == []


def test_a_revision_this_branch_deleted_does_not_come_back_from_the_target(project: ProjectCopy) -> None:
    """A squash on this branch removes files the target still has, unchanged since the branches
    parted: git's merge removes them too, so the merged history has only the squashed revision."""
    init_repository(project)
    on_branch(project, "feature")
    users, posts = sorted(project.versions.glob("*.py"))
    both = upgrade_body(users.read_text()) + upgrade_body(posts.read_text())
    users.unlink()
    posts.unlink()
    project.add_revision(HEAD, None, both, downgrade="    op.drop_table('post')\n    op.drop_table('user')")
    commit_all(project, "squash")

    result = project.make_migrations(check=True, against="main", verify=False)

    assert result.against is not None
    assert [(head.revision, head.side) for head in result.against.heads] == [(HEAD, "this branch")]
    assert result.operations == [] and result.warnings == []


def upgrade_body(source: str) -> str:
    """The lines of a revision's ``upgrade()``."""
    return source.split("def upgrade():\n", 1)[1].split("\n\n\ndef ", 1)[0].rstrip("\n") + "\n"


def test_a_ref_that_does_not_exist_is_one_line(project: ProjectCopy) -> None:
    init_repository(project)

    error = project.engine_refuses(project.make_migrations, check=True, against="origin/nope")

    assert error == (
        "--against 'origin/nope': git knows no such branch, tag or commit here (a remote's branch "
        "is known once fetched: git fetch <remote> <branch>)"
    )


def test_a_project_outside_any_git_repository_is_one_line(project: ProjectCopy) -> None:
    error = project.engine_refuses(project.make_migrations, check=True, against="main")

    assert error.startswith("--against needs a git repository, and migrations is in none: ")


def test_git_not_installed_is_one_line(project: ProjectCopy, tmp_path: Path) -> None:
    init_repository(project)
    empty = tmp_path / "no-git"
    empty.mkdir()

    error = project.engine_refuses(
        project.make_migrations, check=True, against="main", env={"PATH": str(empty)}
    )

    assert error == "--against reads the target branch with git, which is not installed (or not on PATH)"


def test_against_needs_check(project: ProjectCopy) -> None:
    error = project.engine_refuses(project.make_migrations, "add email", against="main")

    assert error == "--against goes with --check (or with verify): it checks, it writes nothing"


def verify(project: ProjectCopy, against: str) -> Verified:
    with project.inside():
        return verify_history(Project(), against=against)


def test_a_revision_both_sides_have_is_read_from_this_branchs_file(project: ProjectCopy) -> None:
    """This branch edited a shared revision: its file, not the ref's, is in the merged history."""
    init_repository(project)
    on_branch(project, "feature")
    project.edit(
        f"migrations/versions/{HEAD}_add_post_table.py", '"""add post table', '"""add post table (edited)'
    )

    result = project.make_migrations(check=True, against="main")

    assert result.against is not None
    assert [(head.revision, head.side) for head in result.against.heads] == [(HEAD, "both")]
    assert result.against.heads[0].path == f"migrations/versions/{HEAD}_add_post_table.py"
    assert result.warnings == []


def test_a_target_revision_that_does_not_load_is_one_line(project: ProjectCopy) -> None:
    init_repository(project)
    git(project, "branch", "feature")
    project.write("migrations/versions/0003_broken.py", "revision = '0003_broken'\ndown_revision = (\n")
    commit_all(project, "a broken revision on main")
    checkout(project, "feature")

    error = project.engine_refuses(project.make_migrations, check=True, against="main")

    assert error.startswith(
        "--against 'main': migrations/versions/0003_broken.py on main cannot be loaded: SyntaxError"
    )
