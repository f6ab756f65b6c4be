"""The throwaway databases: SQLite files and memory, databases on a server, their names, and the
cache of their snapshots.
"""
