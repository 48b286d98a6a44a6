"""Benchmark harness for litsdf: workloads x sizes x engines.

Run ``python -m benchmarks run --help`` from the repository root; see
``benchmarks/README.md`` for how to add a workload.
"""
