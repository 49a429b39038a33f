"""textrisk: financial text risk scoring with LoRA-tuned transformers.

>>> from textrisk import RiskAnalyzer
>>> analyzer = RiskAnalyzer.from_pretrained()  # embedded default model, offline
>>> analyzer.score(["Nokia cuts its outlook as network sales slump."])[0].sentiment
'negative'
"""

__version__ = "0.1.0"

from .errors import ConfigError, DataError, InputError, ModelLoadError, TextRiskError  # noqa: E402
from .modeling import ModelConfig, TextRiskModel  # noqa: E402
from .scoring import Evidence, RiskAnalyzer, RiskReport  # noqa: E402

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
