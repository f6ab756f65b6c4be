"""The project's revisions through Alembic: the staging copy, the driver, generation, operations."""
