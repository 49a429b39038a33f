"""Training: :func:`run` (a YAML file or config in, a saved model out), the head- and prompt-mode trainers, their
shared loop with exact resume, the training rows, and the recipe options (loss, distillation, length batching).

Public names are imported on first access (PEP 562), so ``textrisk finetune --help`` does not import torch.
"""

from typing import TYPE_CHECKING

from ..utils.lazy import lazy_exports

if TYPE_CHECKING:
    from .config import PromptTrainConfig, RunConfig, TrainConfig
    from .dispatch import run
    from .loop import TrainResult

_LAZY = {"run": "dispatch", "TrainConfig": "config", "PromptTrainConfig": "config", "RunConfig": "config",
         "TrainResult": "loop"}

__all__ = ["PromptTrainConfig", "RunConfig", "TrainConfig", "TrainResult", "run"]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
