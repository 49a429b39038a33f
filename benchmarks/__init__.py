"""Benchmarks and their write-ups (checkout only, never installed): scripts run as ``python benchmarks/NAME.py``;
the packages ``causal`` and ``forecast`` as ``python -m benchmarks.causal.bench`` and
``python -m benchmarks.forecast.bench`` from the repository root (or ``textrisk causal-bench`` / ``forecast-bench``
from a checkout)."""
