"""Forecasting stock movement and risk from daily text and price features (StockNet protocol).

::

    from textrisk.forecast import ForecastConfig, Forecaster, build_dataset, load_stocknet

    prices, texts = load_stocknet("../shared/data/stocknet", tickers=["AAPL", "MSFT"])
    ds = build_dataset(prices, texts, analyzer)          # analyzer: RiskAnalyzer or TextRiskModel
    model = Forecaster.train(ds, ForecastConfig(variant="fused"))
    pred = model.predict(ds, start="2015-10-01")         # P(rise), expected return, volatility, VaR 95/99
    model.save_pretrained("forecaster"); Forecaster.from_pretrained("forecaster")
"""

from .dataset import ForecastDataset, build_dataset
from .forecaster import Forecaster
from .model import VARIANTS, ForecastConfig
from .stocknet import load_stocknet
from .text import TextFeaturizer

__all__ = [
    "ForecastConfig",
    "ForecastDataset",
    "Forecaster",
    "TextFeaturizer",
    "VARIANTS",
    "build_dataset",
    "load_stocknet",
]
