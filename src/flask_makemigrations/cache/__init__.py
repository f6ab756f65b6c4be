"""Everything the tool reuses from one run to the next, keyed by content: the revisions' keys, the
shadow databases' snapshots (SQLite files, PostgreSQL templates), the revision files' headers,
autogenerate's reflection answers, the models' schemas and the tables' shapes, and the one way their
files are sealed and read back.
"""
