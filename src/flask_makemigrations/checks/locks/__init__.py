"""What a revision locks on PostgreSQL, measured on the shadow database as the revision runs there:
``capture.py`` records each statement's locks, rewrites and scans, ``report.py`` holds them for the
report every front end renders, ``findings.py`` names the patterns that block production.
"""
