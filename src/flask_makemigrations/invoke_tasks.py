"""The Invoke tasks, where projects import them from (``from flask_makemigrations.invoke_tasks import
ns``); they live in ``frontends.invoke_tasks``."""

from .frontends.invoke_tasks import cache, makemigrations, merge, ns, prune, rebase, squash, verify

__all__ = ["cache", "makemigrations", "merge", "ns", "prune", "rebase", "squash", "verify"]
