"""``errors.foreign_failures``: what code that is not ours (the app, a revision file) raises becomes
one of our errors, and a ``sys.exit()`` in it is no way out."""

import pytest

from flask_makemigrations.errors import (
    AppExitError,
    MakemigrationsError,
    MigrationError,
    UsageError,
    exit_call,
    foreign_failures,
)


def _translated(raised: BaseException) -> MakemigrationsError:
    """What ``foreign_failures`` lets out of a block that raises ``raised``."""
    with (
        pytest.raises(MakemigrationsError) as out,
        foreign_failures(
            lambda exc: AppExitError(f"it called {exit_call(exc)}"),
            lambda exc: MigrationError(f"it failed: {type(exc).__name__}: {exc}"),
        ),
    ):
        raise raised
    return out.value


@pytest.mark.version_independent
def test_our_own_errors_pass_as_they_are() -> None:
    ours = UsageError("--since: no such revision")
    assert _translated(ours) is ours


@pytest.mark.version_independent
def test_an_exit_is_an_error_whatever_its_status_and_shows_no_traceback_of_its_own() -> None:
    for status, call in ((0, "sys.exit(0)"), (None, "sys.exit()"), ("bye", "sys.exit('bye')")):
        error = _translated(SystemExit(status))
        assert type(error) is AppExitError and str(error) == f"it called {call}"
        assert error.__cause__ is None and error.__suppress_context__


@pytest.mark.version_independent
def test_any_other_exception_becomes_ours_and_stays_its_cause() -> None:
    cause = KeyError("STATS_URL")
    error = _translated(cause)
    assert type(error) is MigrationError and str(error) == "it failed: KeyError: 'STATS_URL'"
    assert error.__cause__ is cause


@pytest.mark.version_independent
def test_a_keyboard_interrupt_is_not_caught() -> None:
    interrupt = KeyboardInterrupt()
    failed = (lambda exc: AppExitError("exit"), lambda exc: MigrationError("failed"))
    with pytest.raises(KeyboardInterrupt) as out, foreign_failures(*failed):
        raise interrupt
    assert out.value is interrupt
