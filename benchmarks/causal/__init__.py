"""The causal-LM benchmark (checkout only, not installed): ``python -m benchmarks.causal.bench`` or
``textrisk causal-bench`` from a checkout; the generate-and-parse baseline it compares prompt mode with."""
