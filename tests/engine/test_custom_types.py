"""Column types of other packages (``revisions/custom_types.py``): the revision imports what it
renders, verification proves it applies, and a type whose rendering would not rebuild it is named
with what to write instead. sqlalchemy-utils' types and the app's own ``TypeDecorator``s, on SQLite
and on PostgreSQL (where ``UUIDType`` is the server's own ``uuid``).
"""

import pytest
from conftest import USERNAME, ProjectCopy, findings, written_text
from pg_cluster import Cluster
from server_runs import make

APP_TYPES = '''"""The app's own column types."""

import sqlalchemy as sa


class TrimmedString(sa.types.TypeDecorator):
    """Rebuilt by its repr: TrimmedString(length=40)."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.strip() if value is not None else value


class Money(sa.types.TypeDecorator):
    """Its repr, Money(precision=12, scale=2), does not call its own __init__."""

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, currency):
        super().__init__(precision=12, scale=2)
        self.currency = currency
'''


@pytest.fixture
def typed(project: ProjectCopy) -> ProjectCopy:
    project.write("app/types.py", APP_TYPES)
    project.edit(
        "app/models.py", "from .extensions import db", "from .extensions import db\nfrom . import types"
    )
    return project


def test_a_type_of_the_app_is_imported_and_verified(typed: ProjectCopy) -> None:
    typed.add_model_line(USERNAME, "nickname = db.Column(types.TrimmedString(40))")
    result = typed.make_migrations("nickname")

    assert result.warnings == [] and result.differences == []
    text = written_text(result)
    assert "import app.types" in text and "app.types.TrimmedString(length=40)" in text
    assert typed.make_migrations(check=True).operations == []


def test_a_variant_of_another_packages_type_is_imported_too(typed: ProjectCopy) -> None:
    typed.add_model_line(
        USERNAME, 'nickname = db.Column(db.String(40).with_variant(types.TrimmedString(40), "sqlite"))'
    )
    result = typed.make_migrations("nickname")
    assert result.warnings == [] and result.differences == []
    assert "import app.types" in written_text(result)


def test_sqlalchemy_utils_types_are_imported_and_verified(project: ProjectCopy) -> None:
    project.edit(
        "app/models.py", "from .extensions import db", "import sqlalchemy_utils\n\nfrom .extensions import db"
    )
    project.add_model_line(USERNAME, "token = db.Column(sqlalchemy_utils.UUIDType(binary=False))")
    project.add_model_line(USERNAME, "contact = db.Column(sqlalchemy_utils.EmailType())")
    result = project.make_migrations("utils types")

    assert result.warnings == [] and result.differences == []
    text = written_text(result)
    assert "import sqlalchemy_utils.types.uuid" in text and "import sqlalchemy_utils.types.email" in text
    assert project.verify_history().revisions == 3


def test_sqlalchemy_utils_and_app_types_on_postgresql(typed: ProjectCopy, postgres: Cluster) -> None:
    typed.edit("app/models.py", "from . import types", "from . import types\nimport sqlalchemy_utils")
    typed.add_model_line(USERNAME, "token = db.Column(sqlalchemy_utils.UUIDType(binary=False))")
    typed.add_model_line(USERNAME, "nickname = db.Column(types.TrimmedString(40))")
    result = make(typed, postgres, "types")

    # Adding columns to user takes its lock with no lock_timeout: measured (tests/servers/test_locks.py).
    assert [warning.kind for warning in findings(result.warnings)] == ["lock_timeout_missing"]
    assert result.differences == []
    text = written_text(result)
    assert "import sqlalchemy_utils.types.uuid" in text and "import app.types" in text
    assert make(typed, postgres, check=True).operations == []


def test_a_type_whose_repr_does_not_rebuild_it_is_named_with_what_to_write(typed: ProjectCopy) -> None:
    typed.add_model_line(USERNAME, 'price = db.Column(types.Money("EUR"))')
    checked = typed.make_migrations(check=True)

    (warning, *failed) = findings(checked.warnings)
    assert warning.startswith(
        "column user.price: its type renders as app.types.Money(precision=12, scale=2), which fails to "
        "rebuild it (TypeError: "
    ), warning
    assert (
        "write the type it is stored as, sa.Numeric(precision=12, scale=2), in the revision instead"
        in warning
    )
    assert (
        warning.kind == "unrenderable_type" and warning.fields["write"] == "sa.Numeric(precision=12, scale=2)"
    )
    assert failed and "verification failed" in failed[0]  # and applying it does fail

    before = typed.revision_files()
    refused = typed.engine_refuses(typed.make_migrations, "price")
    assert "TypeError" in refused and typed.revision_files() == before


def test_the_sqlalchemy_utils_choice_type_is_named(project: ProjectCopy) -> None:
    """ChoiceType's repr, ChoiceType(length=255), leaves out the choices its __init__ needs."""
    project.edit(
        "app/models.py", "from .extensions import db", "import sqlalchemy_utils\n\nfrom .extensions import db"
    )
    project.add_model_line(USERNAME, 'role = db.Column(sqlalchemy_utils.ChoiceType([("a", "Admin")]))')
    (warning, *_) = project.make_migrations(check=True).warnings
    assert warning.startswith(
        "column user.role: its type renders as sqlalchemy_utils.types.choice.ChoiceType("
    )
    assert "sa.Unicode(length=255)" in warning, warning


@pytest.mark.version_independent  # the choice to step aside: this package's own
def test_env_py_that_renders_types_itself_is_left_to_do_so(typed: ProjectCopy) -> None:
    """With ``user_module_prefix`` (or a ``render_item``) the project renders and imports them."""
    typed.edit(
        "migrations/env.py", "**conf_args", 'user_module_prefix="types.",\n                **conf_args'
    )
    typed.edit(
        "migrations/script.py.mako",
        "import sqlalchemy as sa",
        "import sqlalchemy as sa\nfrom app import types",
    )
    typed.add_model_line(USERNAME, "nickname = db.Column(types.TrimmedString(40))")
    result = typed.make_migrations("nickname")
    text = written_text(result)
    assert "import app.types" not in text and "types.TrimmedString(length=40)" in text
    assert result.warnings == [] and result.differences == []
