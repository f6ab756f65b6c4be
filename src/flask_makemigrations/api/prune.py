"""``prune``: the server shadow databases that killed runs left behind, dropped."""

from ..errors import UsageError
from ..shadow.backends import parse_database
from ..shadow.server import PruneResult, ServerBackend, prune


def prune_shadow_databases(database: str | None) -> PruneResult:
    """Drop the server shadow databases that runs on this machine leaked (killed with SIGKILL)."""
    backend = parse_database(database)
    if not isinstance(backend, ServerBackend):
        raise UsageError("prune needs the server's URL: --database postgresql://user@host/dbname")
    return prune(backend)
