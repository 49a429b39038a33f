"""Training: :func:`run` (a YAML file or config in, a saved model out), the head- and prompt-mode trainers, their
shared loop with exact resume, the training rows, and the recipe options (loss, distillation, length batching).

Public names are imported on first access (PEP 562), so ``textrisk finetune --help`` does not import torch.
"""

from typing import TYPE_CHECKING

from ..utils.lazy import lazy_exports

if TYPE_CHECKING:
    from .adaptation import AdaptResult, adapt
    from .config import AdaptConfig, PromptTrainConfig, RunConfig, TrainConfig
    from .dispatch import run
    from .loop import TrainResult

_LAZY = {"run": "dispatch", "TrainConfig": "config", "PromptTrainConfig": "config", "RunConfig": "config",
         "TrainResult": "loop", "AdaptConfig": "config", "adapt": "adaptation", "AdaptResult": "adaptation"}

__all__ = ["AdaptConfig", "AdaptResult", "PromptTrainConfig", "RunConfig", "TrainConfig", "TrainResult", "adapt",
           "run"]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
