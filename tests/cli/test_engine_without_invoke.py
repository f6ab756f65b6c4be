"""The engine is a library: every module but the Invoke front end imports without Invoke installed."""

import pkgutil
import subprocess
import sys

import flask_makemigrations

FRONT_END = "flask_makemigrations.invoke_tasks"  # and the module it re-exports from
INVOKE_MODULES = {FRONT_END, "flask_makemigrations.frontends.invoke_tasks"}


def test_every_engine_module_imports_with_invoke_missing() -> None:
    modules = pkgutil.walk_packages(flask_makemigrations.__path__, "flask_makemigrations.")
    engine = [module.name for module in modules if module.name not in INVOKE_MODULES]
    # None in sys.modules makes any import of invoke raise ImportError, as if it were not installed.
    code = "import sys\nsys.modules['invoke'] = None\n" + "".join(f"import {name}\n" for name in engine)

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert "flask_makemigrations.api" in engine and "flask_makemigrations.run.session" in engine
    assert FRONT_END not in engine
