"""The test session compiles the package once (``conftest.compile_package``), so the many processes
the tests start import it from bytecode even where ``PYTHONDONTWRITEBYTECODE`` is set."""

import importlib.util
from pathlib import Path

import pytest

import flask_makemigrations

pytestmark = pytest.mark.version_independent  # the test suite's own set-up


def test_every_module_of_the_package_has_its_bytecode() -> None:
    package = Path(flask_makemigrations.__file__).parent
    missing = [
        str(source.relative_to(package))
        for source in sorted(package.rglob("*.py"))
        if not Path(importlib.util.cache_from_source(str(source))).is_file()
    ]
    assert missing == []
