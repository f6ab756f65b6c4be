"""``squash``: fold a run of revisions into one that keeps the head's id, proven on the shadow
databases before any file changes; refused, with nothing changed, where it would lose something.

Through the engine's API in this process, on SQLite and PostgreSQL; the real ``invoke squash``,
``flask db upgrade`` and git where only a process shows it.
"""

import errno
import hashlib
import itertools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import (
    HEAD,
    USERNAME,
    ProjectCopy,
    Run,
    Tmpfs,
    dry_run_script,
    interrupt,
    probe_env,
    synthetic_project,
    wait_for,
    wait_for_report,
    written_text,
)
from pg_cluster import Cluster

from flask_makemigrations import Squashed


def squash(
    project: ProjectCopy, message: str = "squash", where: dict[str, Any] | None = None, **options: Any
) -> Squashed:
    from flask_makemigrations import Project, squash_history

    with project.inside():
        return squash_history(Project(**(where or {})), message, **options)


def grow(project: ProjectCopy) -> list[str | None]:
    """Two more revisions after the example's two (an email column, then a bio column); their ids."""
    project.add_email_column()
    third = project.make_migrations("email", rev_id="0003_email")
    project.add_model_line(USERNAME, "bio = db.Column(db.Text)")
    fourth = project.make_migrations("bio", rev_id="0004_bio")
    return [third.revision, fourth.revision]


def schema_of(url: str) -> dict[str, list[tuple[str, str, bool]]]:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {
            table: sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table))
            for table in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def test_the_whole_history_becomes_one_revision_with_the_heads_id(project: ProjectCopy) -> None:
    before = project.revision_files()
    done = squash(project, "squash to 2026")

    assert done.revision == HEAD and done.since is None and len(done.folded) == 2
    assert project.revisions() == {HEAD: None}
    text = written_text(done)
    assert f"revision = '{HEAD}'" in text and "down_revision = None" in text
    assert "op.create_table('user'" in text and "op.create_table('post'" in text
    # Outside git, every removed file is kept.
    assert done.backup is not None
    kept = sorted(done.backup.rglob("*.py"))
    assert [path.relative_to(done.backup).as_posix() for path in kept] == [
        f"migrations/versions/{name}" for name in before
    ]
    assert done.proof.tables == 2 and done.proof.since == "base"

    assert project.verify_history().revisions == 1
    assert project.make_migrations(check=True).operations == []
    assert project.leftovers() == []


def test_a_squash_after_a_middle_revision_keeps_the_ones_before(project: ProjectCopy) -> None:
    third, fourth = grow(project)
    done = squash(project, "fold email and bio", since=HEAD)

    assert done.revision == fourth and [path.name.split("_")[0] for path in done.folded] == ["0003", "0004"]
    assert project.revisions() == {"0001_users": None, HEAD: "0001_users", fourth: HEAD}
    text = written_text(done)
    assert "sa.Column('email'" in text and "sa.Column('bio'" in text and f"down_revision = '{HEAD}'" in text
    assert project.verify_history().revisions == 3
    assert project.make_migrations(check=True).operations == []


@pytest.mark.parametrize("since", [None, "001000000000"], ids=["from-base", "from-the-middle"])
def test_a_longer_synthetic_history_is_squashed_and_verified(tmp_path: Path, since: str | None) -> None:
    """The benchmark's generator: tables created, columns added, indexes added, columns widened, in
    batch mode; its one pending column is made a revision first, as squash asks."""
    project = synthetic_project(tmp_path, 40)
    project.make_migrations("the pending column", rev_id="pending0001")
    done = squash(project, since=since)
    assert done.revision == "pending0001" and done.since == since
    assert len(project.revisions()) == (1 if since is None else 12)
    assert project.verify_history().revisions == len(project.revisions())
    assert project.make_migrations(check=True).operations == []


def flask_db_upgrade(project: ProjectCopy, url: str) -> Run:
    command = [sys.executable, "-m", "flask", "db", "upgrade"]  # FLASK_APP: no --app before Flask 2.2
    return project.run(command, env={"DATABASE_URL": url, "FLASK_APP": "app"})


def test_databases_at_head_stay_valid_and_new_ones_build_the_same_schema(
    project: ProjectCopy, tmp_path: Path
) -> None:
    grow(project)
    at_head = f"sqlite:///{tmp_path / 'deployed.sqlite'}"
    assert flask_db_upgrade(project, at_head).returncode == 0
    built_by_the_old_history = schema_of(at_head)

    squash(project)

    again = flask_db_upgrade(project, at_head)
    assert again.returncode == 0, again.stderr
    assert "Running upgrade" not in again.stderr  # at head already: nothing to do, no stamp
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    assert flask_db_upgrade(project, fresh).returncode == 0
    assert schema_of(fresh) == built_by_the_old_history


@pytest.mark.version_independent  # the squash's own checks and files
def test_a_message_that_names_the_file_as_the_heads_replaces_it(project: ProjectCopy) -> None:
    """The squashed file keeps the head's id: with the same message, its file has the head's name."""
    head_file = project.versions / next(name for name in project.revision_files() if name.startswith(HEAD))
    done = squash(project, "add post table")
    assert done.path == head_file and project.revision_files() == [head_file.name]
    assert "down_revision = None" in head_file.read_text()


def test_since_takes_base_and_partial_ids(project: ProjectCopy) -> None:
    grow(project)
    assert squash(project, since="base", dry_run=True).since is None
    assert squash(project, since="0002_p", dry_run=True).since == HEAD
    assert (
        project.engine_refuses(squash, project, since="0004_bio")
        == "nothing to squash: --since 0004_bio is the head"
    )


@pytest.mark.version_independent  # the squash's own checks and files
def test_dry_run_prints_the_revision_and_changes_nothing(project: ProjectCopy) -> None:
    before = project.snapshot()
    done = squash(project, dry_run=True)
    assert done.path is None and done.backup is None
    assert f"revision = '{HEAD}'" in dry_run_script(done) and "def downgrade" in dry_run_script(done)
    assert project.snapshot() == before


@pytest.mark.version_independent  # the front ends' parsing and output: this package's own
def test_invoke_squash_reports_what_it_folded_and_proved(project: ProjectCopy) -> None:
    files = ", ".join(f"migrations/versions/{name}" for name in project.revision_files())
    dry = project.squash_shown("squash", dry_run=True)
    assert dry.returncode == 0, dry.stderr
    assert f"revision = '{HEAD}'" in dry.stdout
    assert f"would remove: {files}" in dry.stderr

    done = project.squash_shown("squash")
    assert done.returncode == 0, done.stderr
    (written,) = done.stdout.splitlines()
    assert written.startswith("migrations/versions/") and (project.root / written).is_file()
    lines = done.stderr.splitlines()
    assert lines[-3] == f"Squashed 2 revision(s) after base into {HEAD}; removed: {files}"
    assert lines[-2] == (
        "Proven on the shadow database: the squashed history builds the old one's schema at head "
        "(2 table(s)), downgrades to exactly the schema at base, upgrades again, and matches the models"
    )
    assert lines[-1].startswith("Copies of the removed files: migrations/.squashed/")

    flask = project.run(  # help: a process
        [sys.executable, "-m", "flask", "makemigrations", "squash", "--help"], env={"FLASK_APP": "app"}
    )
    assert flask.returncode == 0 and "--since" in flask.stdout


@pytest.mark.version_independent
def test_python_m_squash_runs_the_same_squash(project: ProjectCopy) -> None:
    command = [sys.executable, "-m", "flask_makemigrations", "squash", "-m", "squash", "--dry-run"]
    done = project.run(command)
    assert done.returncode == 0, done.stderr
    assert f"revision = '{HEAD}'" in done.stdout and "Proven on the shadow database" in done.stderr
    error = project.refuses_command([sys.executable, "-m", "flask_makemigrations", "squash", "--since", "x"])
    assert error == 'Error: a message is required: --message "what the squash folds"'


# -- what is refused ----------------------------------------------------------------------------


def test_pending_model_changes_are_refused(project: ProjectCopy) -> None:
    project.add_email_column()
    error = project.engine_refuses(squash, project)
    assert error == (
        "the models have changes no revision covers (+ column user.email): squash what the history "
        "builds; run makemigrations first"
    )


@pytest.mark.version_independent  # the squash's own checks and files
def test_several_heads_and_merges_are_refused(project: ProjectCopy) -> None:
    project.add_revision("0003_side", "0001_users")
    assert "several heads" in project.engine_refuses(squash, project)
    project.add_revision("0004_merge", (HEAD, "0003_side"))
    error = project.engine_refuses(squash, project)
    assert "revision 0004_merge (migrations/versions/0004_merge.py) merges several revisions" in error
    assert "no squash can leave out 0004_merge (nothing follows it" in error  # the head: no --since


@pytest.mark.version_independent  # the squash's own checks and files
def test_a_data_migration_in_the_range_is_refused_and_named(project: ProjectCopy) -> None:
    grow(project)
    project.add_revision(
        "0005_backfill",
        "0004_bio",
        upgrade='    op.execute("UPDATE \\"user\\" SET bio = \'\'")\n    conn = op.get_bind()',
    )
    error = project.engine_refuses(squash, project)
    assert error == (
        "revisions in the range do more than change the schema, which the squash could not prove it keeps: "
        "0005_backfill (migrations/versions/0005_backfill.py: op.execute(), op.get_bind()); "
        "no squash can leave out 0005_backfill (nothing follows it, and a squash folds two or more revisions)"
    )
    # After it, nothing to fold; before it, the data migration stays as it is.
    assert "nothing to squash" in project.engine_refuses(squash, project, since="0004_bio")


def test_an_unknown_since_and_a_range_of_one_are_refused(project: ProjectCopy) -> None:
    assert (
        project.engine_refuses(squash, project, since="nope")
        == "--since 'nope': no such revision in the history"
    )
    assert project.engine_refuses(squash, project, since="0001_users") == (
        f"nothing to squash: only {HEAD} comes after 0001_users"
    )


@pytest.mark.version_independent  # the squash's own checks and files
def test_a_multi_database_history_is_refused(binds_project: ProjectCopy) -> None:
    error = binds_project.engine_refuses(squash, binds_project)
    assert error == "squash folds the history of a single-database env.py only"


def test_a_squash_the_schema_comparison_cannot_prove_is_refused(project: ProjectCopy) -> None:
    """A server default the old history sets and the models lack: autogenerate does not compare
    server defaults here, so the squashed revision would not set it. Proven different: refused."""
    project.add_revision(
        "0003_note",
        HEAD,
        upgrade="    op.add_column('user', sa.Column('note', sa.String(20), server_default='x'))",
        downgrade="    op.drop_column('user', 'note')",
    )
    project.add_model_line(USERNAME, "note = db.Column(db.String(20))")
    error = project.engine_refuses(squash, project)
    assert error.startswith("the squash is not proven: column user.note: server default "), error
    assert "in the old history" in error and error.endswith("; nothing was changed")


def two_columns_after(project: ProjectCopy, parent: str) -> None:
    """Two schema-only revisions to fold after ``parent`` (0004_nickname, 0005_motto), models to match."""
    for revision, down, column in (
        ("0004_nickname", parent, "nickname"),
        ("0005_motto", "0004_nickname", "motto"),
    ):
        project.add_revision(
            revision,
            down,
            upgrade=f"    op.add_column('user', sa.Column('{column}', sa.String(length=20), nullable=True))",
            downgrade=f"    op.drop_column('user', '{column}')",
        )
        project.add_model_line(USERNAME, f"{column} = db.Column(db.String(20))")


@pytest.mark.version_independent  # signal handling of this package's own
def test_ctrl_c_during_the_squash_changes_nothing(project: ProjectCopy, tmp_path: Path) -> None:
    """Interrupted while the shadow database is built: exit 130, the project as it was, nothing left."""
    project.add_probe("0003_probe", HEAD)
    two_columns_after(project, "0003_probe")
    before = project.snapshot()
    probes = tmp_path / "probes"
    probes.mkdir()
    run = project.start(
        "squash", "-m", "s", "--since", "0003_probe", env=probe_env(probes, "probe", hold=True)
    )
    wait_for_report(probes, "probe", run)
    stopped = interrupt(run)
    assert stopped.returncode == 130, stopped.stderr
    assert project.snapshot() == before and project.leftovers() == []


# The kept part's revision that stops the second time it runs, that is while the squashed history is
# built (the first time is the old history's).
_SECOND_RUN_HOLDS = """\
    probes = os.environ["PROBE_DIR"]
    runs = len(os.listdir(probes))
    open(os.path.join(probes, f"run-{runs}"), "w").close()
    while runs == 1 and not os.path.exists(os.path.join(probes, "..", "release")):
        time.sleep(0.02)"""


@pytest.mark.version_independent  # signal handling of this package's own
def test_ctrl_c_while_the_squashed_history_is_built_changes_nothing(
    project: ProjectCopy, tmp_path: Path
) -> None:
    project.add_revision("0003_hold", HEAD, _SECOND_RUN_HOLDS, imports="import os, time")
    two_columns_after(project, "0003_hold")
    before = project.snapshot()
    probes = tmp_path / "probes"
    probes.mkdir()
    run = project.start("squash", "-m", "s", "--since", "0003_hold", env={"PROBE_DIR": str(probes)})
    wait_for(probes / "run-1", run)
    stopped = interrupt(run)
    assert stopped.returncode == 130, stopped.stderr
    assert project.snapshot() == before and project.leftovers() == []


@pytest.mark.version_independent  # file handling of this package's own
def test_a_full_disk_before_the_swap_changes_nothing(
    project: ProjectCopy, tmpfs: Callable[..., Tmpfs]
) -> None:
    """The journal and the copies cannot be written: nothing is removed, and no journal stays."""
    disk = tmpfs(project.migrations, size="64k")
    disk.fill()
    before = project.snapshot()
    error = project.engine_refuses(squash, project)
    assert error.endswith("No space left on device; nothing was changed"), error
    assert project.snapshot() == before


# -- files and git ------------------------------------------------------------------------------


@pytest.fixture
def in_git(project: ProjectCopy) -> ProjectCopy:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=project.root, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "start")
    return project


@pytest.mark.version_independent  # file handling of this package's own
def test_in_git_committed_files_are_removed_without_a_copy(in_git: ProjectCopy) -> None:
    done = squash(in_git)
    assert done.backup is None and not (in_git.migrations / ".squashed").exists()
    assert [path.exists() for path in done.folded] == [False, False]


@pytest.mark.version_independent
def test_in_git_untracked_or_changed_files_are_refused(in_git: ProjectCopy) -> None:
    in_git.add_revision("0003_untracked", HEAD)
    error = in_git.engine_refuses(squash, in_git)
    assert error == (
        "git does not track migrations/versions/0003_untracked.py, which the squash would remove: commit "
        "them first"
    )
    (in_git.versions / "0003_untracked.py").unlink()
    posts = next(name for name in in_git.revision_files() if name.startswith("0002_posts"))
    in_git.edit(f"migrations/versions/{posts}", "def downgrade():", "# edited\ndef downgrade():")
    error = in_git.engine_refuses(squash, in_git)
    changed = "changed since the last commit, which the squash would lose: commit first"
    assert error == f"migrations/versions/{posts} {changed}"


@pytest.mark.version_independent
@pytest.mark.parametrize("task", ["squash", "rebase", None], ids=["squash", "rebase", "unnamed"])
def test_a_swap_cut_short_is_named_by_every_task(project: ProjectCopy, task: str | None) -> None:
    """What a kill in the middle of the swap leaves (the journal, the new file, an old one still
    there): every task refuses, saying which task was cut short (a journal written before rebase
    existed names none: a squash's), how to go back and how to finish."""
    done = squash(project, dry_run=True)
    new = project.versions / f"{HEAD}_squash.py"
    new.write_text(dry_run_script(done))
    users, posts = (project.versions / name for name in project.revision_files()[:2])
    removed = [str(users), str(posts)]
    users.unlink()
    journal = project.migrations / ".squash-in-progress.json"
    digest = hashlib.sha256(new.read_bytes()).hexdigest()
    record = {"new": str(new), "sha256": digest, "removed": removed, "backup": None}
    journal.write_text(json.dumps(record if task is None else {"task": task, **record}))
    error = project.engine_refuses(project.make_migrations, check=True)
    assert error == (
        f"a {task or 'squash'} was interrupted (migrations/.squash-in-progress.json): to go back, remove "
        f"migrations/versions/{HEAD}_squash.py, then run 'git checkout HEAD -- migrations/versions/"
        f"{users.name}', then remove migrations/.squash-in-progress.json; to finish it, remove "
        f"migrations/versions/{posts.name}, then remove migrations/.squash-in-progress.json"
    )
    assert project.engine_refuses(project.verify_history) == error


# -- PostgreSQL ---------------------------------------------------------------------------------


def test_enum_types_the_tool_created_are_folded_on_postgresql(
    project: ProjectCopy, postgres: Cluster
) -> None:
    """The tool's own enum statements (create with checkfirst) are schema statements to squash."""
    where = {"database": postgres.url_string()}
    project.add_model_line(
        'author_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)',
        "status = db.Column(db.Enum('draft', 'published', name='post_status'), nullable=True)",
    )
    written = project.make_migrations("status", where=where)
    assert ".create(op.get_bind(), checkfirst=True)" in written_text(written)
    done = squash(project, where=where)
    assert done.proof.tables == 2 and "post_status" in written_text(done)
    assert project.verify_history(where=where).revisions == 1


def test_a_squash_on_postgresql_is_proven_there(project: ProjectCopy, postgres: Cluster) -> None:
    grow(project)
    where = {"database": postgres.url_string()}
    before = postgres.databases()
    done = squash(project, where=where, since="0001_users")
    assert done.revision == "0004_bio" and len(done.folded) == 3
    assert project.verify_history(where=where).revisions == 2
    assert postgres.databases() == before


# -- a swap stopped at each of its steps ----------------------------------------------------------


class Killed(BaseException):
    """What a kill does to the swap: it stops, and nothing after it runs (no except clause sees it)."""


#: Every call through which the swap touches the file system, where a kill can stop it.
_FILE_CALLS = [
    ("os", "replace"),
    ("os", "link"),
    ("os", "unlink"),
    ("os", "rename"),
    ("os", "mkdir"),
    ("os", "open"),
    ("os", "fsync"),
    ("io", "open"),
    ("builtins", "open"),
]


@contextmanager
def killed_at(call: int, fault: str = "kill") -> Iterator[list[int]]:
    """The swap's file-system calls from the ``call``-th on do nothing but raise ``Killed`` (a kill),
    or the ``call``-th alone fails with ENOSPC (a failing disk)."""
    import builtins
    import io
    import os

    modules = {"os": os, "io": io, "builtins": builtins}
    counter = itertools.count()
    made: list[int] = []  # the calls made: whether the fault's turn came

    def dies_at_its_turn(original: Callable[..., Any]) -> Callable[..., Any]:
        def stopping(*args: Any, **kwargs: Any) -> Any:
            turn = next(counter)
            made.append(turn)
            if fault == "kill" and turn >= call:
                raise Killed
            if fault == "disk" and turn == call:
                raise OSError(errno.ENOSPC, "No space left on device")
            return original(*args, **kwargs)

        return stopping

    with pytest.MonkeyPatch.context() as patch:
        for module, name in _FILE_CALLS:
            patch.setattr(modules[module], name, dies_at_its_turn(getattr(modules[module], name)))
        yield made


def files_of(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.py"))}


def follow(recovery: str, root: Path) -> None:
    """Do what one recovery of the journal's message says, literally, from the project's root."""
    for action in recovery.split(", then "):
        if found := re.fullmatch(r"run '(git checkout HEAD -- .+)'", action):
            subprocess.run(found[1].split(), cwd=root, check=True, capture_output=True)
        elif found := re.fullmatch(r"copy (.+) back from (\S+)", action):
            for path in found[1].split(", "):
                shutil.copy2(root / found[2] / path, root / path)
        elif found := re.fullmatch(r"remove (.+)", action):
            for path in map(root.joinpath, found[1].split(", ")):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        else:
            raise AssertionError(f"not an action: {action!r}")


def recoveries(message: str) -> dict[str, str]:
    """The ways out a journal's message offers: 'back' always, 'finish' where finishing is safe."""
    found = re.fullmatch(
        r"a squash was interrupted \(migrations/\.squash-in-progress\.json\)"
        r"(?P<why> before the squashed revision was in place, so it cannot be finished)?"
        r": to go back, (?P<back>.+?)(?:; to finish it, (?P<finish>.+))?",
        message,
    )
    assert found, message
    assert bool(found["why"]) != bool(found["finish"]), message
    return {way: found[way] for way in ("back", "finish") if found[way]}


@pytest.mark.version_independent  # file handling of this package's own
@pytest.mark.parametrize("kept_by", ["copies", "git"])
@pytest.mark.parametrize("message", ["squash", "add post table"], ids=["new-name", "head-s-name"])
@pytest.mark.parametrize("fault", ["kill", "disk"])
def test_a_swap_stopped_at_any_step_leaves_the_old_history_or_the_new_one(
    project: ProjectCopy, kept_by: str, message: str, fault: str
) -> None:
    """Killed before each of its file-system calls in turn (or with that call failing), the swap
    leaves a history that is the old one or the new one once the journal's advice is followed,
    whichever way out it offers: "finish" only once the squashed file is in place and every file it
    removes is kept (copied and synced, or in git), "go back" always, restoring what was removed
    already. A failure the swap sees is one line: "nothing was changed" and nothing left, or the
    journal's advice."""
    from flask_makemigrations.errors import MakemigrationsError, MigrationError
    from flask_makemigrations.revisions.staging import Staging
    from flask_makemigrations.revisions.swap import check_no_interrupted_squash, swap

    if kept_by == "git":
        if shutil.which("git") is None:
            pytest.skip("git is not installed")
        for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "start"]):
            command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
            subprocess.run(command, cwd=project.root, check=True, capture_output=True)
    script = dry_run_script(squash(project, message, dry_run=True))
    old = files_of(project.versions)
    folded = [project.versions / name for name in old]
    new_name = f"{HEAD}_{message.replace(' ', '_')}.py"
    new = {new_name: script.encode()}
    pristine = project.root.parent / "pristine"
    shutil.copytree(project.versions, pristine)

    def stop_at(call: int) -> tuple[bool, dict[str, str]]:
        """Start from the old history, kill the swap at ``call``: whether it had finished, and the
        ways out the tasks offer then."""
        shutil.rmtree(project.versions)
        shutil.copytree(pristine, project.versions)
        for left in [*project.migrations.glob(".squash*"), project.root.parent / "staged"]:
            shutil.rmtree(left) if left.is_dir() else left.unlink(missing_ok=True)
        staged = project.root.parent / "staged" / new_name
        staged.parent.mkdir()
        staged.write_text(script)
        staging = Staging(project.migrations, staged.parent.parent, staged.parent, [project.versions])
        with project.inside():
            made = []
            try:
                with killed_at(call, fault) as made:
                    swap(staging, staged, folded, backup=kept_by == "copies")
            except Killed:
                pass
            except MakemigrationsError as exc:
                error = str(exc)
                assert "\n" not in error
                if not (project.migrations / ".squash-in-progress.json").exists():
                    assert error.endswith(("; nothing was changed", "; nothing was written")), error
                    assert files_of(project.versions) == old and not any(
                        project.migrations.glob(".squashed/*")
                    )
            finished = call not in made  # the swap made fewer calls: it ran to its end
            try:
                check_no_interrupted_squash(project.migrations)
            except MigrationError as exc:
                return finished, recoveries(str(exc))
        return finished, {}

    followed: list[tuple[int, str]] = []
    call = 0
    while True:
        finished, offered = stop_at(call)
        if not offered:
            assert files_of(project.versions) in (old, new), f"stopped at call {call}"
        for way in offered:
            if followed and followed[-1][0] == call:
                stop_at(call)  # the state the kill left, again, for the other way out
            follow(offered[way], project.root)
            assert files_of(project.versions) == (new if way == "finish" else old), (call, offered)
            assert not (project.migrations / ".squash-in-progress.json").exists()
            followed.append((call, way))
        if finished:
            assert files_of(project.versions) == new
            break
        call += 1
    assert {way for _, way in followed} == {"back", "finish"} and call > 5
