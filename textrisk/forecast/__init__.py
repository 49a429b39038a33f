"""Forecasting stock movement and risk from daily text and price features (StockNet protocol).

The library only: the StockNet benchmark (its loader, tables and risk study) is ``benchmarks/forecast/`` of a
source checkout (``textrisk forecast-bench``).

::

    from textrisk.forecast import ForecastConfig, Forecaster, build_dataset

    ds = build_dataset(prices, texts, analyzer)          # your frames; analyzer: RiskAnalyzer or a scoring model
    model = Forecaster.train(ds, ForecastConfig(variant="fused"))
    pred = model.predict(ds, start="2015-10-01")         # P(rise), expected return, volatility, VaR 95/99
    model.save_pretrained("forecaster"); Forecaster.from_pretrained("forecaster")
"""

from typing import TYPE_CHECKING

from ..utils.lazy import lazy_exports

if TYPE_CHECKING:
    from .dataset import ForecastDataset, build_dataset
    from .forecaster import Forecaster
    from .model import VARIANTS, ForecastConfig
    from .text import TextFeaturizer, load_text_model

#: Public name -> submodule, imported on first access, so ``textrisk --help`` (which registers the light
#: ``textrisk.forecast.cli``) does not import torch and pandas.
_LAZY = {"ForecastDataset": "dataset", "build_dataset": "dataset", "Forecaster": "forecaster", "VARIANTS": "model",
         "ForecastConfig": "model", "TextFeaturizer": "text",
         "load_text_model": "text"}

__all__ = [
    "ForecastConfig",
    "ForecastDataset",
    "Forecaster",
    "TextFeaturizer",
    "VARIANTS",
    "build_dataset",
    "load_text_model",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
