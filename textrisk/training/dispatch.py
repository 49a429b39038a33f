"""``textrisk.training.run``: the one library entry point for training.

    from textrisk.training import run

    result = run("finetune/configs/default.yaml")                  # a YAML file, read once
    result = run("finetune/configs/tiny.yaml", epochs=1.0)        # overrides win over the file
    result = run(TrainConfig(output_dir="runs/x", train_data=["fpb"]))   # or a config object

The config's ``mode`` picks the trainer, as peft's ``peft_type`` picks a tuner: ``head`` (default;
:class:`~textrisk.training.config.TrainConfig`, :func:`textrisk.training.head.train`) or ``prompt``
(:class:`~textrisk.training.config.PromptTrainConfig`, :func:`textrisk.training.prompt.train_prompt_model`) or
``adapt`` (:class:`~textrisk.training.config.AdaptConfig`, :func:`textrisk.training.adaptation.adapt`: a saved model
continued on a user's labels; returns an :class:`~textrisk.training.adaptation.AdaptResult`).
``textrisk finetune`` and ``python -m finetune.train`` call this function.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from typing import Any

from ..errors import ConfigError
from .config import AdaptConfig, PromptTrainConfig, TrainConfig, config_from_dict, read_yaml
from .loop import TrainResult

__all__ = ["TRAINERS", "run"]

#: ``mode`` -> (config class, ``"module:function"`` of its trainer, imported when a run of that mode starts).
TRAINERS: dict[str, tuple[type, str]] = {
    "head": (TrainConfig, "textrisk.training.head:train"),
    "prompt": (PromptTrainConfig, "textrisk.training.prompt:train_prompt_model"),
    "adapt": (AdaptConfig, "textrisk.training.adaptation:adapt"),
}


def run(config: str | os.PathLike | TrainConfig | PromptTrainConfig | AdaptConfig, *, progress: bool | None = None,
        **overrides: Any) -> TrainResult | Any:
    """Train (or resume) the run ``config`` describes and save its model; returns a :class:`TrainResult` (an
    ``AdaptResult`` in ``adapt`` mode).

    Args:
        config: a YAML file (keys = the config's fields, plus ``mode``) or a config object.
        progress: tqdm bars (None: on a terminal only).
        **overrides: config fields that replace the file's or the object's values (e.g. ``output_dir``).

    Raises:
        ConfigError: an unknown ``mode``, unknown keys, or invalid values (the field named).
    """
    if isinstance(config, (str, os.PathLike)):
        data = {**read_yaml(config), **overrides}
        mode = data.pop("mode", "head")
        if mode not in TRAINERS:
            raise ConfigError(f"{config}: mode must be 'head' (classification heads), 'prompt' or 'adapt', "
                              f"got {mode!r}")
        config = config_from_dict(TRAINERS[mode][0], data, source=str(config))
    else:
        mode = next((m for m, (cls, _) in TRAINERS.items() if type(config) is cls), None)
        if mode is None:
            raise ConfigError(f"run() takes a YAML path or one of {[c.__name__ for c, _ in TRAINERS.values()]}, "
                              f"got {type(config).__name__}")
        if overrides:
            config = dataclasses.replace(config, **overrides)
    module, _, function = TRAINERS[mode][1].partition(":")
    return getattr(importlib.import_module(module), function)(config, progress=progress)
