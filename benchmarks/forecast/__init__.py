"""The StockNet benchmark of the forecaster (checkout only, not installed): ``python -m benchmarks.forecast.bench``
or ``textrisk forecast-bench`` from a checkout; the StockNet loader, risk scores, risk study and tables."""
