"""The shadow cache end to end: what a second run reuses, and what makes it build cold again."""

import re

from conftest import HEAD

SUMMARY = re.compile(
    r"^Shadow database at head: (?:restored at (\S+) from the cache, then )?(\d+) revision", re.M
)


def built(run) -> tuple:
    """(revision restored from the cache or None, revisions applied) from a run's summary line."""
    assert run.returncode in (0, 1), run.stderr
    restored, applied = SUMMARY.search(run.stderr).groups()
    return restored, int(applied)


def check(project, *options):
    return project.invoke("makemigrations", "--check", "--no-verify", *options)


def snapshots(project) -> list:
    return sorted(project.home.glob(".cache/flask-makemigrations/*/*.sqlite"))


def test_an_unchanged_history_is_restored_whole(project):
    assert built(check(project)) == (None, 2)
    assert built(check(project)) == (HEAD, 0)
    assert len(snapshots(project)) == 1


def test_a_version_table_of_its_own_is_restored_too(project):
    """``Migrate(version_table=...)``: the snapshot's revision is read from the table the project uses."""
    project.edit(
        "app/extensions.py", "compare_type=True)", 'compare_type=True, version_table="schema_versions")'
    )
    assert built(check(project)) == (None, 2)
    assert built(check(project)) == (HEAD, 0)
    assert built(check(project)) == (HEAD, 0)


def test_a_grown_history_reuses_its_deepest_cached_revision(project):
    check(project)
    project.add_revision("0003_more", HEAD)
    assert built(check(project)) == (HEAD, 1)
    assert built(check(project)) == ("0003_more", 0)


def test_editing_an_old_revision_or_env_py_builds_cold(project):
    check(project)
    first = next(project.versions.glob("0001_*.py"))
    first.write_text(first.read_text() + "\n# reviewed\n")
    assert built(check(project)) == (None, 2)

    check(project)
    env = project.migrations / "env.py"
    env.write_text(env.read_text() + "\n# reviewed\n")
    assert built(check(project)) == (None, 2)


def test_a_corrupt_snapshot_is_ignored_and_replaced(project):
    project.add_email_column()
    first = check(project)
    (snapshot,) = snapshots(project)
    snapshot.write_bytes(b"\0garbage" * 512)

    second = check(project)

    assert built(second) == (None, 2)
    assert second.returncode == first.returncode == 1
    assert second.stdout == first.stdout == "+ column user.email\n"
    assert built(check(project)) == (HEAD, 0)


def test_no_cache_neither_reads_nor_writes_snapshots(project):
    assert built(check(project, "--no-cache")) == (None, 2)
    assert snapshots(project) == []


def test_cold_and_warm_runs_write_the_same_file(project):
    project.add_email_column()
    options = ("makemigrations", "--dry-run", "--rev-id", "fixed0001", "-m", "add email")
    cold = project.invoke(*options, "--no-cache")
    project.invoke(*options)  # fills the cache
    warm = project.invoke(*options)

    assert built(warm) == (HEAD, 0)
    assert cold.returncode == warm.returncode == 0, warm.stderr

    def without_date(script):
        return re.sub(r"Create Date: .*", "", script)

    assert "add_column" in cold.stdout
    assert without_date(warm.stdout) == without_date(cold.stdout)


def test_cache_clear_removes_every_snapshot(project):
    check(project)
    assert snapshots(project)
    cleared = project.invoke("cache", "--clear")
    assert cleared.returncode == 0, cleared.stderr
    assert "Removed 1 snapshot(s)" in cleared.stdout
    assert snapshots(project) == []
