"""What the project gives ``env.py`` is part of every snapshot's key (``cache/keys.canonical``):
a ``configure`` callback is code, so its body is in the key, not only its name."""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from flask_makemigrations.cache.keys import canonical

pytestmark = pytest.mark.version_independent  # see noxfile.py

CALLBACK = """
def configure(config):
    config.set_main_option("version_table", "{table}")
    return config
"""


def _module(folder: Path, table: str) -> ModuleType:
    """A module ``callbacks`` in its own folder, whose one callback names ``table``."""
    folder.mkdir()
    path = folder / "callbacks.py"
    path.write_text(CALLBACK.format(table=table))
    spec = importlib.util.spec_from_file_location("callbacks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_callback_whose_body_changed_changes_the_key(tmp_path: Path) -> None:
    before = _module(tmp_path / "before", "alembic_version")
    after = _module(tmp_path / "after", "schema_versions")
    again = _module(tmp_path / "again", "alembic_version")

    assert before.configure.__qualname__ == after.configure.__qualname__
    assert canonical({"callbacks": [before.configure]}) != canonical({"callbacks": [after.configure]})
    assert canonical({"callbacks": [before.configure]}) == canonical({"callbacks": [again.configure]})


def test_a_callable_without_source_is_keyed_by_its_name() -> None:
    assert canonical(len) == canonical(len)
    assert canonical(len) != canonical(print)
