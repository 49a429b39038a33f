"""Process-level settings shared by scoring, training and forecasting.

**Quiet by default.** Loading a model and exporting it to ONNX make the libraries underneath talk: transformers'
"Loading weights" bar and deprecation FutureWarnings, peft's "All adapters are already merged", torch's tracer
warnings, ONNX Runtime's quantisation advice (logged on the root logger). :func:`quiet_third_party` silences
exactly these (warnings issued from third-party modules, transformers' logging and bars, records of the root logger
below ERROR) around textrisk's own loading code, for the Python API as for the command line; textrisk's own
warnings still show. Set ``TEXTRISK_VERBOSE=1`` (the command line's ``--verbose``) to see everything.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

__all__ = ["THIRD_PARTY", "VERBOSE_ENV", "quiet_libraries", "quiet_third_party", "torch_threads", "verbose"]

#: Environment variable that turns the libraries' own messages back on (``1``; the CLI's ``--verbose``).
VERBOSE_ENV = "TEXTRISK_VERBOSE"
#: Modules whose warnings :func:`quiet_third_party` silences (a regular expression on the warning's module).
THIRD_PARTY = r"(transformers|peft|torch|onnx|onnxruntime|accelerate|huggingface_hub|datasets|tokenizers)(\.|$)"


def verbose() -> bool:
    """Whether the libraries' own messages are wanted (``TEXTRISK_VERBOSE`` set to anything but 0/false/empty)."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() not in ("", "0", "false", "no")


@contextlib.contextmanager
def quiet_third_party() -> Iterator[None]:
    """Run the block without the third-party chatter of the module docstring (unless :func:`verbose`)."""
    if verbose():
        yield
        return
    import warnings

    with contextlib.ExitStack() as stack:
        stack.enter_context(_transformers_quiet())
        stack.enter_context(warnings.catch_warnings())  # restores the filters after the block
        warnings.filterwarnings("ignore", module=THIRD_PARTY)
        root = logging.getLogger()
        placeholder = logging.NullHandler() if not root.handlers else None
        if placeholder is not None:  # logging.warning() would otherwise install a stderr handler on the root
            root.addHandler(placeholder)
            stack.callback(root.removeHandler, placeholder)
        root.addFilter(_below_error)  # records logged on the root logger itself (onnxruntime's advice), not on ours
        stack.callback(root.removeFilter, _below_error)
        yield


def _below_error(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR


@contextlib.contextmanager
def _transformers_quiet() -> Iterator[None]:
    """transformers' logging at error level and its progress bars off, restored after."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        yield
        return
    level, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch CPU threads (``None``: leave torch's setting), restoring it after."""
    import torch

    if n is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def quiet_libraries() -> None:
    """Silence the libraries' own chatter for a whole command-line run (not with :func:`verbose`): FutureWarnings,
    third-party warnings, transformers' logging and progress bars, datasets' progress bars, tokenizers' fork
    warning."""
    import warnings

    if verbose():
        return
    import datasets
    import transformers

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", module=THIRD_PARTY)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    datasets.disable_progress_bars()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
