"""``--database`` parsed once: which kind of shadow database each form asks for."""

from pathlib import Path

import pytest

from flask_makemigrations.errors import UsageError
from flask_makemigrations.shadow.spec import DatabaseSpec, Kind


def test_each_form_names_its_kind_and_the_second_database_never_takes_a_users_path(tmp_path):
    temporary, memory = DatabaseSpec.parse(None), DatabaseSpec.parse(":memory:")
    file = DatabaseSpec.parse(str(tmp_path / "shadow.sqlite"))
    server = DatabaseSpec.parse("postgresql://u:secret@localhost:5432/postgres")

    assert (temporary.kind, memory.kind, file.kind, server.kind) == (
        Kind.TEMPORARY_FILE,
        Kind.MEMORY,
        Kind.FILE,
        Kind.SERVER,
    )
    assert file.path == tmp_path / "shadow.sqlite" and server.url.database == "postgres"
    assert DatabaseSpec.parse("relative.sqlite").path == Path.cwd() / "relative.sqlite"
    assert file.second() == temporary.second() == DatabaseSpec(Kind.TEMPORARY_FILE)
    assert memory.second() == memory and server.second() == server


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("postgresql://u:secret@host:notaport/db", "not a database URL (...@host:notaport/db)"),
        ("sqlite:///x.db", "for SQLite give a file path or :memory:, not a URL"),
    ],
)
def test_unusable_urls_are_refused_without_their_password(given, complaint):
    with pytest.raises(UsageError) as refused:
        DatabaseSpec.parse(given)
    assert str(refused.value) == f"--database: {complaint}"
    assert "secret" not in str(refused.value)
