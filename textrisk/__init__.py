"""textrisk: financial text risk scoring with LoRA-tuned transformers.

>>> from textrisk import RiskAnalyzer
>>> analyzer = RiskAnalyzer.from_pretrained()  # embedded default model, offline
>>> analyzer.score(["Nokia cuts its outlook as network sales slump."])[0].sentiment
'negative'

The model and scoring names are imported on first use (PEP 562), so ``import textrisk`` (and ``textrisk --help``)
does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import ConfigError, DataError, InputError, ModelLoadError, TextRiskError  # noqa: E402
from .utils.lazy import lazy_exports  # noqa: E402
from .version import __version__  # noqa: E402

if TYPE_CHECKING:
    from .filings.analyzer import FilingAnalyzer
    from .forecast.forecaster import Forecaster
    from .models.head.config import ModelConfig
    from .models.head.model import TextRiskModel
    from .models.hub import load_model
    from .models.prompt.model import PromptModel
    from .scoring.analyzer import RiskAnalyzer
    from .scoring.report import Evidence, RiskReport

#: Public name -> the module that defines it (imported on first access).
_LAZY = {"FilingAnalyzer": "filings.analyzer", "Forecaster": "forecast.forecaster", "ModelConfig": "models.head.config",
         "TextRiskModel": "models.head.model", "load_model": "models.hub", "PromptModel": "models.prompt.model",
         "RiskAnalyzer": "scoring.analyzer", "Evidence": "scoring.report", "RiskReport": "scoring.report"}

__all__ = [
    "ConfigError",
    "DataError",
    "Evidence",
    "FilingAnalyzer",
    "Forecaster",
    "InputError",
    "ModelConfig",
    "ModelLoadError",
    "PromptModel",
    "RiskAnalyzer",
    "RiskReport",
    "TextRiskError",
    "TextRiskModel",
    "__version__",
    "load_model",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
