"""The Invoke tasks: Django-style ``makemigrations`` for Flask-Migrate projects.

The primary front end, and the only module of the package that imports Invoke (the ``tasks`` extra):
it lives in the package so that a project can import the tasks into its own ``tasks.py``; this
repository's ``tasks.py`` does just that. Thin on purpose: the tasks and their options are those
``surface.py`` declares; each parses Invoke's options and configuration, hands them to ``runs``
(which calls the engine and makes the report), and exits with the status:
0 success or no changes, 1 ``--check`` found changes, 2 any error, 130 Ctrl-C, 143 SIGTERM.
"""

import sys
from pathlib import Path
from typing import Any

# From the defining modules: the package's own namespace re-exports them implicitly only.
from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.parser.argument import Argument
from invoke.tasks import Task

from ..run.signals import signals_held_to_the_end
from . import report, runs, surface

# How messages name the other tasks they send the user to, in Invoke's syntax.
SPELLING = surface.spelling("invoke")
RUN_AGAIN = surface.run_again("invoke makemigrations")


#: Options whose Invoke configuration (``makemigrations.url_env``) comes between the option and its
#: declared default: their default here is None. (``makemigrations.bind_env`` is a value of its own,
#: ``runs.Given.configured_bind_env``, since an option overrides only its own bind's.)
CONFIGURED = (surface.URL_ENV,)


class FlaskDbTask(Task[Any]):
    """An Invoke task built from its declaration in ``surface.py``: its arguments are the declared
    options (Invoke would read them from the body's signature, and derive short flags such as -a, -u,
    which ``flask db`` does not have)."""

    def __init__(self, declared: surface.Task) -> None:
        def body(c: Context, **parsed: Any) -> None:
            _exit(declared.run(_front(c), _given(c, parsed)))

        body.__name__ = body.__qualname__ = declared.name
        body.__doc__ = declared.doc
        positional = [option.name for option in declared.options if option.positional]
        super().__init__(body, name=declared.name, positional=positional)
        self.declared = declared

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """A signal from the task's first instant is the run's to report (``signals.signals_held``):
        Invoke would make Ctrl-C status 1, which CI reads as pending changes. Once the task is done the
        process ends (or Invoke runs the next task, which holds them again): they are ignored."""
        with signals_held_to_the_end():
            return super().__call__(*args, **kwargs)

    def get_arguments(self, ignore_unknown_help: bool | None = None) -> list[Argument]:
        return [_argument(option) for option in self.declared.options]


def _argument(option: surface.Option) -> Argument:
    """An option as Invoke parses it, with its metavar and default written into its help."""
    flag = option.flag.removeprefix("--")
    names = [flag, *([option.short] if option.short else [])]
    kind = {surface.Kind.TEXT: str, surface.Kind.FLAG: bool, surface.Kind.REPEATED: list}[option.kind]
    help = f"{option.metavar}: {option.help}" if option.metavar else option.help
    if option.default is not None:
        help += f" (default: {option.default})"
    default = None if option in CONFIGURED else option.unset
    # The attribute name only where it is not the flag's: Invoke aliases one to the other.
    attr_name = option.name if option.name != flag else None
    return Argument(
        names=names, kind=kind, default=default, help=help, attr_name=attr_name, positional=option.positional
    )


def _front(c: Context) -> runs.FrontEnd:
    return runs.FrontEnd(SPELLING, RUN_AGAIN, _task_file_folder(c))


def _given(c: Context, parsed: dict[str, Any]) -> runs.Given:
    """Options first, then Invoke configuration (``makemigrations.url_env``, ``makemigrations.bind_env``:
    a mapping of bind to variable, or a list of NAME=VAR), then the declared defaults."""
    values: dict[str, Any] = {name: tuple(v) if isinstance(v, list) else v for name, v in parsed.items()}
    configured = c.config.get("makemigrations") or {}
    if surface.URL_ENV.name in values:
        values["url_env"] = values["url_env"] or configured.get("url_env") or surface.URL_ENV.default
    if surface.BIND_ENV.name in values:
        values["configured_bind_env"] = tuple(_configured_bind_env(configured.get("bind_env")))
    return runs.Given(**values)


def _configured_bind_env(value: Any) -> list[str]:
    """``makemigrations.bind_env`` as NAME=VAR items: a configuration file's mapping (or list, or one
    string)."""
    if not value:
        return []
    if hasattr(value, "items"):
        return [f"{bind}={variable}" for bind, variable in value.items()]
    return [value] if isinstance(value, str) else [str(item) for item in value]


def _task_file_folder(c: Context) -> tuple[Path, ...]:
    """Invoke imports the task file it found as a top-level module (``tasks``) and puts its folder
    first on sys.path; from another project (``invoke -r``) neither may shadow the project's own."""
    module = sys.modules.get(c.config.tasks.collection_name)
    path = getattr(module, "__file__", None)
    return (Path(path).parent,) if path else ()


def _exit(shown: report.Report) -> None:
    """Write the report; a status other than 0 ends the task with it."""
    status = runs.write(shown)
    if status != report.SUCCESS:
        raise Exit(code=status)


makemigrations = FlaskDbTask(surface.MAKEMIGRATIONS)
merge = FlaskDbTask(surface.MERGE)
squash = FlaskDbTask(surface.SQUASH)
rebase = FlaskDbTask(surface.REBASE)
verify = FlaskDbTask(surface.VERIFY)
locks = FlaskDbTask(surface.LOCKS_TASK)
prune = FlaskDbTask(surface.PRUNE)
cache = FlaskDbTask(surface.CACHE)

# Declaring the setting lets Invoke fill it from every configuration source, including the
# environment (INVOKE_MAKEMIGRATIONS_URL_ENV), which only overrides keys that already exist. bind_env
# is a mapping, {audit: AUDIT_URL}, so it comes from configuration files only.
ns = Collection(makemigrations, merge, squash, rebase, verify, locks, prune, cache)
ns.configure({"makemigrations": {"url_env": None, "bind_env": {}}})
