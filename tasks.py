"""This repository's Invoke tasks: ``invoke makemigrations``, ``merge``, ``squash``, ``rebase``, ``verify``,
``locks``, ``prune``, ``cache``.

They live in the package (``flask_makemigrations.invoke_tasks``), so any Flask project can use
them the same way: with ``invoke -r <this repository>``, or by importing ``ns`` in its own
``tasks.py``.
"""

from flask_makemigrations.invoke_tasks import ns  # noqa: F401  (Invoke's namespace)
