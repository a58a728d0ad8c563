"""On-demand benchmarks (not part of the default test run).

    .venv/bin/python -m tests.benchmarks [NAME ...]

Each ``bench_*.py`` module here defines ``run() -> list[Figure]``; all figures print as one
table with their targets and the ratio measured/target.
"""
