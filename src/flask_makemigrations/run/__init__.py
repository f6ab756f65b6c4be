"""Setting a run up and tearing it down: the installed versions, app loading, the connection guard,
signals, locking, the output streams and warnings.
"""
