"""Shadow database names: unique, within PostgreSQL's 63 bytes (MySQL allows 64), and parsed back
exactly or not at all.

``prune`` drops what ``is_leaked`` accepts, so a near miss must never parse as one of ours.
"""

import os
from datetime import UTC, datetime

import pytest

from flask_makemigrations.shadow.naming import MAX_LENGTH, ShadowName, host_token, is_leaked

pytestmark = pytest.mark.version_independent  # see noxfile.py

CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_name_reads_back_as_host_pid_and_time() -> None:
    name = ShadowName(host_token("build-01.example.com"), 4321, CREATED, "0a1b2c")
    assert str(name) == "fmm_shadow_build01examplecom_4321_20260102t030405_0a1b2c"
    assert ShadowName.parse(str(name)) == name


def test_the_longest_name_fits_an_identifier() -> None:
    name = ShadowName(host_token("x" * 300), 9_999_999_999, CREATED, "ffffff")
    assert len(str(name).encode()) <= MAX_LENGTH
    assert ShadowName.parse(str(name)) == name


def test_two_names_in_one_second_differ() -> None:
    assert str(ShadowName.new()) != str(ShadowName.new())


@pytest.mark.parametrize(
    "name",
    [
        "fmm_shadow_host_4321_20260102t030405_0a1b2c_copy",
        "xfmm_shadow_host_4321_20260102t030405_0a1b2c",
        "fmm_shadow_host_4321_20260102t030405",
        "fmm_shadow_ho-st_4321_20260102t030405_0a1b2c",
        "fmm_shadow_host_0_20260102t030405_0a1b2c",
        "fmm_shadow_host_4321_20261302t030405_0a1b2c",  # month 13
        "FMM_SHADOW_HOST_4321_20260102T030405_0A1B2C",
        "postgres",
    ],
)
def test_near_misses_are_not_shadow_names(name: str) -> None:
    assert ShadowName.parse(name) is None
    assert not is_leaked(name)


def test_only_a_dead_process_on_this_machine_leaks() -> None:
    alive = ShadowName(host_token(), os.getpid(), CREATED, "0a1b2c")
    other_host = ShadowName(
        host_token() + "x" if len(host_token()) < 17 else "zz", 999_999_999, CREATED, "0a1b2c"
    )
    dead = ShadowName(host_token(), 999_999_999, CREATED, "0a1b2c")  # above any pid_max
    assert not is_leaked(str(alive))
    assert not is_leaked(str(other_host))
    assert is_leaked(str(dead))
