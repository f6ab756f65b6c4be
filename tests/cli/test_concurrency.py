"""Concurrent runs: each has its own shadow database, and writers in one project take turns.

The probe migration reports which database each run upgrades and holds the first run in its upgrade,
so the second run certainly overlaps it.
"""

import time
from pathlib import Path

import pytest
from conftest import USERNAME, ProjectCopy, finish, probe_env, wait_for, wait_for_report

pytestmark = pytest.mark.version_independent  # see noxfile.py

PHONE = "phone = db.Column(db.String(20))"


def release(probe_dir: Path) -> None:
    (probe_dir / "release").touch()


def test_concurrent_runs_never_share_or_remove_each_others_shadow_database(
    project: ProjectCopy, probe_dir: Path
) -> None:
    project.add_probe()
    project.add_email_column()

    first = project.start("makemigrations", "--check", env=probe_env(probe_dir, "first", hold=True))
    held = Path(wait_for_report(probe_dir, "first", first)["database"])

    second = project.invoke("makemigrations", "--check", env=probe_env(probe_dir, "second"))
    assert second.returncode == 1, second.stderr
    other = Path(wait_for_report(probe_dir, "second")["database"])
    assert other != held and other.parent != held.parent
    assert not other.exists()
    assert held.is_file(), "the second run removed the first run's shadow database"

    release(probe_dir)
    result = finish(first)
    assert result.returncode == 1, result.stderr
    assert result.stdout == "+ column user.email\n"
    assert not held.exists()


def test_concurrent_runs_in_memory_are_separate(project: ProjectCopy, probe_dir: Path) -> None:
    project.add_probe()
    first = project.start(
        "makemigrations", "--check", "--database", ":memory:", env=probe_env(probe_dir, "first", hold=True)
    )
    held = wait_for_report(probe_dir, "first", first)["database"]
    second = project.invoke(
        "makemigrations", "--check", "--database", ":memory:", env=probe_env(probe_dir, "second")
    )
    assert second.returncode == 0, second.stderr
    assert wait_for_report(probe_dir, "second")["database"] != held
    release(probe_dir)
    assert finish(first).returncode == 0


@pytest.mark.parametrize("own_tmpdir", [False, True], ids=["same-TMPDIR", "other-TMPDIR"])
def test_concurrent_writers_are_serialized_into_one_chain(
    project: ProjectCopy, probe_dir: Path, tmp_path: Path, own_tmpdir: bool
) -> None:
    """The second writer waits for the first, then builds on its revision: one head, no merge needed.

    Both see the model change the first one writes (email); only the second sees another (phone).
    Two shells of one developer need not share a TMPDIR, so the turn-taking must not depend on it.
    """
    second_env = {"WITH_PHONE": "1"}
    if own_tmpdir:
        (tmp_path / "tmp2").mkdir()
        second_env["TMPDIR"] = str(tmp_path / "tmp2")
    project.add_probe()
    project.add_model_line(USERNAME, f'if os.environ.get("WITH_PHONE"):\n        {PHONE}')
    project.add_email_column()
    loaded = probe_dir / "second-loaded"
    project.announce_loading()
    before = project.revision_files()

    first = project.start("makemigrations", "-m", "first", env=probe_env(probe_dir, "first", hold=True))
    wait_for_report(probe_dir, "first", first)
    second = project.start(
        "makemigrations",
        "-m",
        "second",
        env={**probe_env(probe_dir, "second", LOADED=str(loaded)), **second_env},
    )
    wait_for(loaded, second)
    time.sleep(0.5)  # let the second run reach the history while the first one still holds it
    release(probe_dir)
    first_result, second_result = finish(first), finish(second)

    assert first_result.returncode == 0, first_result.stderr
    assert second_result.returncode == 0, second_result.stderr
    assert first_result.stdout.splitlines()[1:] == ["  + column user.email"]
    assert second_result.stdout.splitlines()[1:] == ["  + column user.phone"]
    first_file, second_file = (project.root / r.stdout.splitlines()[0] for r in (first_result, second_result))
    assert sorted(p.name for p in project.new_revisions(before)) == sorted(
        [first_file.name, second_file.name]
    )
    revisions = project.revisions()
    (first_rev,) = (rev for rev, down in revisions.items() if down == "0003_probe")
    (second_rev,) = (rev for rev, down in revisions.items() if down == first_rev)
    assert project.heads() == [second_rev]
    assert second_file.name.startswith(second_rev)
    if own_tmpdir:
        assert list((tmp_path / "tmp2").iterdir()) == []


def test_second_run_on_the_same_database_path_is_refused_and_removes_nothing(
    project: ProjectCopy, probe_dir: Path, tmp_path: Path
) -> None:
    project.add_probe()
    chosen = str(tmp_path / "shadow.sqlite")
    first = project.start(
        "makemigrations", "--check", "--database", chosen, env=probe_env(probe_dir, "first", hold=True)
    )
    assert wait_for_report(probe_dir, "first", first)["database"] == chosen

    error = project.refuses("makemigrations", "--check", "--database", chosen)

    assert "already exists" in error
    assert Path(chosen).is_file(), "the refused run removed the first run's shadow database"
    release(probe_dir)
    assert finish(first).returncode == 0
    assert not Path(chosen).exists()
