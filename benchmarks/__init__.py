"""Benchmarks: figures as ratios to the raw PyNaCl Ed25519 cost measured in the same run (design.md §8).

Each ``bench_*.py`` module has a ``main()`` that prints its table; ``python -m benchmarks`` runs them all.
"""
