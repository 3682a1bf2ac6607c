"""Framework-free X12: read, validate, write and acknowledge interchanges.

Nothing in this package imports Django, so it can be tested and benchmarked alone.
"""
