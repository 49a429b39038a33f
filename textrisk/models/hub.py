"""Saving, loading and sharing textrisk models: the work every model kind shares.

Modelled on ``huggingface_hub.ModelHubMixin``: the public :meth:`PretrainedModel.save_pretrained`,
:meth:`~PretrainedModel.from_pretrained` and :meth:`~PretrainedModel.push_to_hub` do the shared work — a staging
folder moved in file by file, the config written last (its presence marks a complete folder), the model card,
format versions, Hub ids or local folders, Hub upload — and each model kind implements only its weights:
``_save_weights`` and ``_load``.

Every saved folder has ``textrisk_config.json`` with two envelope keys, ``model_kind`` (``"head"``, ``"prompt"``,
``"forecaster"``: which class loads it, as peft's ``peft_type``) and ``format_version``. :func:`load_model`
dispatches on ``model_kind``. Format 1 folders (textrisk 0.1: ``prompt_config.json`` / ``forecaster_config.json``
for prompt models and forecasters, no ``model_kind``) are migrated when read; a newer format is refused.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from ..errors import ModelLoadError
from ..utils.atomic import atomic_write_json, replace_file
from ..utils.runtime import quiet_third_party
from .backbone import EMBEDDED_MODELS, resolve_model_path

__all__ = [
    "CONFIG_NAME",
    "COMMERCIAL_MODEL_DIR",
    "DEFAULT_MODEL_DIR",
    "EMBEDDED_MODELS",
    "FORMAT_VERSION",
    "MODEL_KINDS",
    "SCORING_KINDS",
    "PretrainedModel",
    "config_from_saved",
    "load_model",
    "load_safetensors",
    "model_kind_of",
    "read_model_config",
]

CONFIG_NAME = "textrisk_config.json"
#: Version of the folder layout written by this textrisk; folders of a newer version are refused.
FORMAT_VERSION = 2
#: ``model_kind`` -> ``"module:Class"`` implementing it (imported only when a model of that kind is loaded).
MODEL_KINDS: dict[str, str] = {
    "head": "textrisk.models.head.model:TextRiskModel",
    "prompt": "textrisk.models.prompt.model:PromptModel",
    "forecaster": "textrisk.forecast.forecaster:Forecaster",
}
#: The kinds that score texts (implement :class:`textrisk.models.contract.ScoringModel`).
SCORING_KINDS = ("head", "prompt")
#: The default model shipped inside the package (MiniLM-L6 + LoRA, ``finetune/configs/default.yaml`` then
#: ``default_judgement.yaml``); ``from_pretrained("default")`` or no name loads it.
DEFAULT_MODEL_DIR = EMBEDDED_MODELS["default"]
#: The commercial-use model shipped inside the package (``finetune/configs/commercial.yaml``);
#: ``from_pretrained("commercial")`` loads it.
COMMERCIAL_MODEL_DIR = EMBEDDED_MODELS["commercial"]
#: Config files of format 1, which had no ``model_kind`` key.
_FORMAT1_FILES = {CONFIG_NAME: "head", "prompt_config.json": "prompt", "forecaster_config.json": "forecaster"}
ENVELOPE_KEYS = ("model_kind", "format_version", "textrisk_version")
_Model = TypeVar("_Model", bound="PretrainedModel")
_Config = TypeVar("_Config")


def _model_class(kind: str) -> type[PretrainedModel]:
    module, _, name = MODEL_KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def read_model_config(folder: str | os.PathLike) -> tuple[str, dict[str, Any]]:
    """``(model_kind, config)`` of a saved model folder, migrated to the current format.

    Raises:
        ModelLoadError: no config file, a corrupt one, an unknown kind or a newer format version.
    """
    folder = Path(folder)
    found = next(((folder / name, kind) for name, kind in _FORMAT1_FILES.items() if (folder / name).is_file()), None)
    if found is None:
        raise ModelLoadError(f"{str(folder)!r} is not a textrisk model folder: {CONFIG_NAME} is missing")
    path, legacy_kind = found
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"corrupt model config {str(path)!r}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelLoadError(f"corrupt model config {str(path)!r}: expected a JSON object")
    version = data.get("format_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelLoadError(f"{str(path)!r}: format_version must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        from ..version import __version__

        raise ModelLoadError(f"{str(path)!r} has format_version {version}, newer than this textrisk "
                             f"({__version__}) reads (<= {FORMAT_VERSION}); upgrade textrisk to load it")
    kind = data.get("model_kind", legacy_kind if version == 1 else None)
    if kind not in MODEL_KINDS:
        raise ModelLoadError(f"{str(path)!r}: unknown model_kind {kind!r} (known: {sorted(MODEL_KINDS)})")
    config = {k: v for k, v in data.items() if k not in ENVELOPE_KEYS}
    if version < FORMAT_VERSION:
        config = _model_class(kind).migrate_config(config, version)
    return kind, config


def model_kind_of(name_or_path: str | os.PathLike) -> str:
    """The ``model_kind`` of a saved model (folder or Hub id)."""
    return read_model_config(resolve_model_path(name_or_path))[0]


def load_model(name_or_path: str | os.PathLike, **kwargs: Any) -> PretrainedModel:
    """Load any saved textrisk model (folder or Hub id) with the class its ``model_kind`` names."""
    folder = resolve_model_path(name_or_path)
    kind, _ = read_model_config(folder)
    return _model_class(kind).from_pretrained(folder, **kwargs)


def config_from_saved(cls: type[_Config], data: dict[str, Any], where: str | os.PathLike) -> _Config:
    """Build the config dataclass ``cls`` from a saved mapping; unknown keys and bad values raise
    :class:`ModelLoadError` naming the file and the field."""
    import dataclasses

    unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ModelLoadError(f"{str(where)!r} has unknown keys {unknown}; was it written by a newer textrisk?")
    try:
        return cls(**data)
    except (TypeError, ValueError) as exc:  # ConfigError is a ValueError
        raise ModelLoadError(f"invalid config {str(where)!r}: {exc}") from exc


def load_safetensors(path: Path) -> dict[str, Any]:
    """Tensors of a safetensors file; a missing or corrupt file, or weights that are not finite numbers (NaN or
    infinite values: a model that would score every text with NaN probabilities), raise :class:`ModelLoadError`
    naming the file (and the tensor)."""
    import torch
    from safetensors.torch import load_file

    if not path.is_file():
        raise ModelLoadError(f"model folder {str(path.parent)!r} is missing {path.name!r}")
    try:
        tensors = load_file(path)
    except Exception as exc:  # safetensors raises its own error type for truncated or garbled files
        raise ModelLoadError(f"corrupt weights file {str(path)!r}: {exc}") from exc
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise ModelLoadError(f"corrupt weights file {str(path)!r}: tensor {name!r} holds {bad} NaN or infinite "
                                 "value(s)")
    return tensors


class PretrainedModel:
    """Base of every saved textrisk model kind: public save/load/push here, weights in the subclass.

    A subclass sets ``model_kind`` and implements :meth:`_save_weights` (write weight files into a staging folder
    and return the kind's config as a JSON-ready dict), :meth:`_load` (build the model from a folder and that
    dict) and :meth:`_render_card`; it may list ``_stale_files`` to remove from a re-used folder and override
    :meth:`migrate_config` to read older formats.
    """

    model_kind: ClassVar[str]
    source_dir: Path | None = None

    # ---------------------------------------------------------------------------------- subclass hooks
    def _save_weights(self, staging: Path, **options: Any) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def _load(cls: type[_Model], folder: Path, config: dict[str, Any], **kwargs: Any) -> _Model:
        raise NotImplementedError

    def _render_card(self, config: dict[str, Any]) -> str:
        raise NotImplementedError

    def _stale_files(self, config: dict[str, Any]) -> tuple[str, ...]:
        """Files of an earlier save that this one replaces by other files (e.g. adapter vs merged weights)."""
        return ()

    @classmethod
    def migrate_config(cls, config: dict[str, Any], version: int) -> dict[str, Any]:
        """Bring a config of an older ``format_version`` to the current one (default: unchanged)."""
        return config

    # ---------------------------------------------------------------------------------- public API
    def save_pretrained(self, save_directory: str | os.PathLike, *, model_card: str | None = None,
                        **options: Any) -> Path:
        """Write the model folder; a reader never sees a half-written one.

        Weight files and the card are written to a staging folder inside ``save_directory`` and moved in one by
        one; ``textrisk_config.json`` is written last. ``model_card`` replaces the README.md (default: keep an
        existing card, else render this kind's template). ``options`` go to the kind (e.g. ``merged=True``).
        """
        from ..version import __version__

        target = Path(save_directory)
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target, prefix=".saving-") as tmp:
            staging = Path(tmp)
            config = self._save_weights(staging, **options)
            if model_card is not None:
                (staging / "README.md").write_text(model_card, encoding="utf-8")
            elif not (target / "README.md").exists():
                (staging / "README.md").write_text(self._render_card(config), encoding="utf-8")
            for item in sorted(staging.iterdir()):
                if item.is_dir():  # e.g. a prompt model's templates: replace the folder as a whole
                    shutil.rmtree(target / item.name, ignore_errors=True)
                    os.replace(item, target / item.name)
                else:
                    replace_file(item, target / item.name)
        for name in self._stale_files(config):
            (target / name).unlink(missing_ok=True)
        for legacy in _FORMAT1_FILES:  # a format-1 config beside the new one would be read first
            if legacy != CONFIG_NAME:
                (target / legacy).unlink(missing_ok=True)
        envelope = {"model_kind": self.model_kind, "format_version": FORMAT_VERSION, "textrisk_version": __version__}
        atomic_write_json(target / CONFIG_NAME, {**envelope, **config})  # last: marks the folder complete
        return target

    @classmethod
    def from_pretrained(cls: type[_Model], name_or_path: str | os.PathLike, **kwargs: Any) -> _Model:
        """Load a folder written by :meth:`save_pretrained`, or a Hub repo id (downloaded once, then cached).

        Raises:
            ModelLoadError: not a textrisk folder, another model kind, a missing or corrupt file, a newer format.
        """
        folder = resolve_model_path(name_or_path)
        kind, config = read_model_config(folder)
        if kind != cls.model_kind:
            other = MODEL_KINDS[kind].rpartition(":")[2]
            raise ModelLoadError(f"{str(name_or_path)!r} holds a {kind!r} model ({other}), not a "
                                 f"{cls.model_kind!r} model ({cls.__name__}); load it with {other}.from_pretrained "
                                 "or textrisk.models.hub.load_model")
        with quiet_third_party():
            model = cls._load(folder, config, **kwargs)
        model.source_dir = folder
        return model

    def push_to_hub(self, repo_id: str, *, private: bool | None = None, token: str | None = None,
                    commit_message: str = "Upload textrisk model", **options: Any) -> str:
        """Save to a temporary folder and upload it to the Hub repo ``repo_id`` (created if missing).

        Returns the URL of the commit (or of the repo). The card of the folder the model was loaded from travels
        with it.
        """
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        with tempfile.TemporaryDirectory() as tmp:
            card = None
            if self.source_dir is not None and (self.source_dir / "README.md").is_file():
                card = (self.source_dir / "README.md").read_text(encoding="utf-8")
            folder = self.save_pretrained(Path(tmp) / "model", model_card=card, **options)
            api.create_repo(repo_id, private=private, exist_ok=True)
            info = api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message=commit_message)
        from huggingface_hub import constants

        return getattr(info, "commit_url", None) or f"{constants.ENDPOINT}/{repo_id}"
