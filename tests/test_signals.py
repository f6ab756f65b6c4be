"""Ctrl-C and SIGTERM in the middle of the upgrade: the run cleans up, then exits 130 / 143.

The probe migration reports the shadow database it runs on and holds the upgrade there, so the signal
arrives while the shadow database certainly exists.
"""

import signal
import time
from pathlib import Path

import pytest
from conftest import finish, interrupt, probe_env, wait_for, wait_for_report

pytestmark = pytest.mark.version_independent  # see noxfile.py


@pytest.mark.parametrize(
    ("signum", "status", "word"),
    [(signal.SIGINT, 130, "Interrupted"), (signal.SIGTERM, 143, "Terminated")],
    ids=["ctrl-c", "sigterm"],
)
@pytest.mark.parametrize("database", [None, ":memory:", "chosen.sqlite"])
def test_signal_during_upgrade_leaves_no_shadow_database(
    project, probe_dir, tmp_path, signum, status, word, database
):
    project.add_probe()
    project.add_email_column()
    options = []
    if database is not None:
        database = database if database == ":memory:" else str(tmp_path / database)
        options = ["--database", database]
    before = project.snapshot()

    run = project.start(
        "makemigrations", "-m", "add email", *options, env=probe_env(probe_dir, "run", hold=True)
    )
    shadow = wait_for_report(probe_dir, "run", run)
    if database is None:
        assert Path(shadow["database"]).is_file()
    result = interrupt(run, signum)

    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(word)
    assert result.stdout == ""
    assert project.leftovers() == []
    if database not in (None, ":memory:"):
        assert list(tmp_path.glob("chosen.sqlite*")) == []
    assert project.snapshot() == before


def test_ctrl_c_while_waiting_for_another_writer(project, probe_dir):
    """The waiting run removes its own shadow database and leaves the other run's alone."""
    project.add_probe()
    project.add_email_column()
    project.announce_loading()
    loaded = probe_dir / "second-loaded"
    first = project.start("makemigrations", "-m", "first", env=probe_env(probe_dir, "first", hold=True))
    held = Path(wait_for_report(probe_dir, "first", first)["database"])
    second_env = probe_env(probe_dir, "second", LOADED=str(loaded))
    second = project.start("makemigrations", "-m", "second", env=second_env)
    wait_for(loaded, second)
    time.sleep(0.5)  # let it reach the history, which the first run holds

    result = interrupt(second)

    assert result.returncode == 130, result.stderr
    assert not (probe_dir / "second.json").exists(), "the second run did not wait for the first"
    assert held.is_file()
    (probe_dir / "release").touch()
    assert finish(first).returncode == 0


SWALLOWING = """\
    Path({started!r}).touch()
    try:
        time.sleep(30)
    except BaseException:  # swallows Ctrl-C, as a weakref callback or a __del__ would
        pass
    for _ in range(300):
        op.execute("SELECT 1")
        time.sleep(0.1)"""


@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_a_swallowed_interrupt_comes_back_at_the_next_statement(project, probe_dir, signum, status):
    """Without that, the run would go on for half a minute and then succeed."""
    started = probe_dir / "started"
    project.add_revision(
        "0003_swallows",
        "0002_posts",
        SWALLOWING.format(started=str(started)),
        imports="import time\nfrom pathlib import Path",
    )

    run = project.start("makemigrations", "--check")
    wait_for(started, run)
    time.sleep(0.2)  # inside the sleep the migration guards
    began = time.monotonic()
    result = interrupt(run, signum)

    assert result.returncode == status, result.stderr
    assert time.monotonic() - began < 20
    assert project.leftovers() == []
