"""Benchmarks at national scale (issue 11): ``python -m bench.run`` or ``make bench``.

Not part of ``make test``; ``tests/bench/`` only checks that the generator builds what it says.
"""
