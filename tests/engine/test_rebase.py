"""``rebase --onto REF``: this branch's revisions moved to follow the target branch's head, proven on
the shadow database before any file changes; where the proof fails, regenerated against the new head
when the user says so. Real git repositories (``git_branches.py``); the engine's API in this process."""

from typing import Any

import pytest
from conftest import HEAD, ProjectCopy
from git_branches import (
    Revisions,
    blank_revisions_on_both,
    checkout,
    commit_all,
    git,
    init_repository,
    on_branch,
)

from flask_makemigrations import Rebased
from flask_makemigrations.errors import UnansweredQuestionError
from flask_makemigrations.questioner import Question

ADD_EMAIL = "    op.add_column('user', sa.Column('email', sa.String(length=120), nullable=True))"
DROP_EMAIL = "    op.drop_column('user', 'email')"
TITLE = "title = db.Column(db.String(120), nullable=False)"
ADD_SUBTITLE = "    op.add_column('post', sa.Column('subtitle', sa.String(length=60), nullable=True))"
DROP_SUBTITLE = "    op.drop_column('post', 'subtitle')"


def rebase(project: ProjectCopy, onto: str = "main", regenerate: bool = False, **options: Any) -> Rebased:
    from flask_makemigrations import Project, Runtime, rebase_onto
    from flask_makemigrations.questioner import Answers

    with project.inside():
        return rebase_onto(
            Project(), onto, runtime=Runtime(questioner=Answers(regenerate=regenerate)), **options
        )


def diverged(project: ProjectCopy, commit_feature: bool = True) -> None:
    """``main`` adds a revision that changes nothing; ``feature`` adds user.email (model and revision)
    on the same parent, committed or left untracked, and is checked out."""
    init_repository(project)
    git(project, "branch", "feature")
    project.add_revision("0003_main", HEAD)
    commit_all(project, "main's revision")
    checkout(project, "feature")
    project.add_email_column()
    project.add_revision("0003_email", HEAD, ADD_EMAIL, downgrade=DROP_EMAIL)
    if commit_feature:
        commit_all(project, "feature adds user.email")


def test_two_branches_with_a_revision_each_become_one_line_that_passes_against(
    project: ProjectCopy,
) -> None:
    diverged(project)
    original = (project.versions / "0003_email.py").read_text()

    done = rebase(project)

    assert (done.ref, done.onto, done.regenerated) == ("main", "0003_main", None)
    (moved,) = done.moved
    assert (moved.revision, moved.old_parent, moved.new_parent) == ("0003_email", HEAD, "0003_main")
    assert moved.path == moved.old_path == project.versions / "0003_email.py"
    expected = original.replace(f"Revises: {HEAD}", "Revises: 0003_main").replace(
        f"down_revision = '{HEAD}'", "down_revision = '0003_main'"
    )
    assert (project.versions / "0003_email.py").read_text() == expected  # the rest byte for byte
    assert not (project.versions / "0003_main.py").exists()  # read from git, never checked out
    assert done.proof is not None and done.proof.revisions == 1

    git(project, "merge", "-q", "--no-edit", "main")
    assert project.heads() == ["0003_email"]
    checked = project.make_migrations(check=True, against="main")
    assert checked.operations == checked.differences == checked.warnings == []
    project.verify_history()

    again = rebase(project)
    assert (again.moved, again.nothing) == (
        [],
        "this branch's revisions already follow main's head 0003_main",
    )


def test_a_target_that_moved_by_several_revisions_merged_first(project: ProjectCopy) -> None:
    """The usual flow: the target merged in (its models and revisions), which leaves two heads; two
    revisions of this branch move, only the first's parent changes."""
    init_repository(project)
    on_branch(project, "feature")
    project.add_email_column()
    project.add_revision("0003_email", HEAD, ADD_EMAIL, downgrade=DROP_EMAIL)
    project.add_revision("0004_feature", "0003_email")
    commit_all(project, "feature adds user.email")
    checkout(project, "main")
    project.add_model_line(TITLE, "subtitle = db.Column(db.String(60))")
    project.add_revision("0003_subtitle", HEAD, ADD_SUBTITLE, downgrade=DROP_SUBTITLE)
    project.add_revision("0004_main", "0003_subtitle")
    project.add_revision("0005_main", "0004_main")
    commit_all(project, "main moves on")
    checkout(project, "feature")
    git(project, "merge", "-q", "--no-edit", "main")
    assert sorted(project.heads()) == ["0004_feature", "0005_main"]

    done = rebase(project)

    assert [(moved.revision, moved.old_parent, moved.new_parent) for moved in done.moved] == [
        ("0003_email", HEAD, "0005_main"),
        ("0004_feature", "0003_email", "0003_email"),
    ]
    assert project.revisions()["0003_email"] == "0005_main"
    assert project.heads() == ["0004_feature"]
    assert done.proof is not None and done.proof.revisions == 2
    assert project.make_migrations(check=True).operations == []


def test_both_sides_altering_the_same_column_is_regenerated_only_when_asked(project: ProjectCopy) -> None:
    """main widens user.username to 100, this branch to 200: this branch's revision, after main's,
    downgrades to 80, not to main's 100. Before main is merged in, regenerating would compare with
    models that lack main's changes: refused. Merged, unanswered: status 3, nothing changed; with
    --regenerate one revision against main's head, with this branch's id and message."""
    init_repository(project)
    git(project, "branch", "feature")
    project.edit("app/models.py", "db.String(80)", "db.String(100)")
    project.add_revision("0003_main", HEAD, widen(80, 100), downgrade=widen(100, 80))
    commit_all(project, "main widens user.username")
    checkout(project, "feature")
    project.edit("app/models.py", "db.String(80)", "db.String(200)")
    project.add_revision("0003_wide", HEAD, widen(80, 200), message="wider names", downgrade=widen(200, 80))
    commit_all(project, "feature widens user.username more")

    error = project.engine_refuses(rebase, project, regenerate=True)
    assert error.startswith("the rebase is not proven: verification failed at downgrade 0003_wide -> ")
    assert error.endswith(
        "; merge main into this branch first (its models too), then rebase again: only then can this "
        "branch's revisions be generated anew against main's head; nothing was changed"
    )

    assert "CONFLICT" in git(project, "merge", "--no-edit", "main", check=False)  # both changed the model
    git(project, "checkout", "--ours", "app/models.py")
    commit_all(project, "merge main, keeping the wider names")
    assert sorted(project.heads()) == ["0003_main", "0003_wide"]
    before = project.snapshot()

    with pytest.raises(UnansweredQuestionError) as unanswered:
        rebase(project)

    message = str(unanswered.value)
    assert message.startswith("this branch's revisions do not apply after main's head 0003_main: ")
    assert "does not give back the schema it started from" in message
    assert "--regenerate" in message and message.endswith("nothing was changed")
    (question,) = unanswered.value.questions
    assert isinstance(question, Question) and question.option == "--regenerate"
    assert project.snapshot() == before and project.leftovers() == []

    done = rebase(project, regenerate=True)

    assert done.regenerated is not None and done.moved == []
    assert done.regenerated.revision == "0003_wide"
    assert done.regenerated.replaced == [project.versions / "0003_wide.py"]
    assert "batch_op.alter_column('username'," in "\n".join(done.regenerated.old_operations)
    assert done.regenerated.operations == ["~ column user.username (type VARCHAR(100) -> VARCHAR(200))"]
    assert done.regenerated.path is not None
    text = done.regenerated.path.read_text()
    assert text.startswith('"""wider names\n') and "length=100" in text
    assert project.revisions() == {
        "0003_wide": "0003_main",
        "0003_main": HEAD,
        HEAD: "0001_users",
        "0001_users": None,
    }
    project.verify_history()


def widen(old: int, new: int) -> str:
    return (
        "    with op.batch_alter_table('user') as batch_op:\n"
        f"        batch_op.alter_column('username', existing_type=sa.String(length={old}), "
        f"type_=sa.String(length={new}))"
    )


def test_a_file_named_with_the_old_parent_is_renamed_and_uncommitted_files_are_this_branchs(
    project: ProjectCopy,
) -> None:
    diverged(project, commit_feature=False)
    named = project.versions / f"0003_email_after_{HEAD}.py"
    (project.versions / "0003_email.py").rename(named)
    original = named.read_bytes()

    done = rebase(project)

    (moved,) = done.moved
    assert moved.old_path == named
    assert moved.path == project.versions / "0003_email_after_0003_main.py"
    assert not named.exists() and moved.path.is_file()
    assert done.backup is not None  # untracked: git could not give the old file back
    assert (done.backup / "migrations" / "versions" / named.name).read_bytes() == original
    assert project.revision_files() == [
        "0001_users_create_user_table.py",
        "0002_posts_add_post_table.py",
        "0003_email_after_0003_main.py",
    ]
    assert project.leftovers() == []


def test_a_dry_run_writes_nothing(project: ProjectCopy) -> None:
    diverged(project)
    before = project.snapshot()

    done = rebase(project, dry_run=True)

    assert [moved.revision for moved in done.moved] == ["0003_email"]
    assert "-Revises: 0002_posts" in done.diff and "+down_revision = '0003_main'" in done.diff
    assert project.snapshot() == before


def test_nothing_of_its_own_is_nothing_to_do(project: ProjectCopy) -> None:
    init_repository(project)
    on_branch(project, "feature")
    before = project.snapshot()

    done = rebase(project)

    assert (done.moved, done.nothing) == ([], "this branch has no revision of its own: nothing to rebase")
    assert project.snapshot() == before


def test_a_ref_that_does_not_exist_is_one_line(project: ProjectCopy) -> None:
    init_repository(project)

    error = project.engine_refuses(rebase, project, "origin/nope")

    assert error == (
        "--onto 'origin/nope': git knows no such branch, tag or commit here (a remote's branch "
        "is known once fetched: git fetch <remote> <branch>)"
    )


def test_a_project_outside_any_git_repository_is_one_line(project: ProjectCopy) -> None:
    error = project.engine_refuses(rebase, project, "main")

    assert error.startswith("--onto needs a git repository, and migrations is in none: ")


def test_revisions_of_its_own_that_are_no_line_are_refused(project: ProjectCopy) -> None:
    """This branch joined two revisions of its own with a merge revision: it is no line to move."""
    own: Revisions = {"0003_a": HEAD, "0003_b": HEAD, "0004_join": ("0003_a", "0003_b")}
    blank_revisions_on_both(project, {"0003_main": HEAD}, own)

    error = project.engine_refuses(rebase, project, "main")

    assert error == (
        "--onto 'main': this branch's revisions are no line to move (0004_join merges several "
        "revisions): merge main into this branch, then join the heads with the merge task"
    )


def test_more_heads_than_the_two_it_joins_are_refused(project: ProjectCopy) -> None:
    blank_revisions_on_both(project, {"0003_main": HEAD}, {"0003_a": HEAD, "0003_b": HEAD})

    error = project.engine_refuses(rebase, project, "main")

    assert error.startswith("--onto 'main': the history merged with main's would have 3 heads (")
