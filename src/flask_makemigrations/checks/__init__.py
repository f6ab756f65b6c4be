"""What a new revision and the whole history are checked for: review warnings, the round trip,
the schema comparison.
"""
