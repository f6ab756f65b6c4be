"""The throwaway databases: SQLite files and memory, databases on a server, and their names."""
