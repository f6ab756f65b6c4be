"""The ways in: parse a command line, build the request, write the report out."""
