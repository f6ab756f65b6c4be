"""This project's own ``tasks`` module (think Celery tasks), which its app imports.

The tool's repository has a ``tasks.py`` too, loaded by ``invoke -r`` under the same module name:
the app must get this one.
"""

OWNER = "foreign project"
