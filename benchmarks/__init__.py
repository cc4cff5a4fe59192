"""Benchmarks: the real bot as a subprocess against the loopback Discord and Pexels, next to a do-nothing floor.

`python -m benchmarks` runs every section and writes benchmarks/results/ (results.json, table.md,
response_time.png); `python -m benchmarks --quick` is a shorter version of the same.
"""
