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
    from .modeling import ModelConfig, TextRiskModel
    from .scoring import Evidence, RiskAnalyzer, RiskReport

#: Public name -> the module that defines it (imported on first access).
_LAZY = {"ModelConfig": "modeling", "TextRiskModel": "modeling", "Evidence": "scoring", "RiskAnalyzer": "scoring",
         "RiskReport": "scoring"}

__all__ = [
    "ConfigError",
    "DataError",
    "Evidence",
    "InputError",
    "ModelConfig",
    "ModelLoadError",
    "RiskAnalyzer",
    "RiskReport",
    "TextRiskError",
    "TextRiskModel",
    "__version__",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
