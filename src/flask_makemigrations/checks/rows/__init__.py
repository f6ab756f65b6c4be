"""Verification with rows in the tables: an empty shadow database proves nothing about a revision that
meets rows (a NOT NULL column added without a default, a unique index over duplicate values, a type
narrowed below the values stored). ``values`` makes a column's values, ``filling`` puts a few made-up
rows into the tables a revision touches, ``conditions`` reads what the revision does that depends on
the data and gives the rows those values, ``verification`` takes the revision up and down over them.
"""
