"""``textrisk causal-bench`` and ``textrisk forecast-bench``: doors to the benchmark code of a source checkout.

The benchmarks are not part of the library (the wheel holds no benchmark module): their code is
``benchmarks/causal/bench.py`` and ``benchmarks/forecast/bench.py`` of a textrisk checkout, also run as
``python -m benchmarks.causal.bench`` / ``python -m benchmarks.forecast.bench`` from its root. These subcommands
import that code from the checkout textrisk runs from (an editable install), else from the current folder, and
hand every argument to the benchmark's own parser (``textrisk forecast-bench --help`` shows its options). Where no
checkout is found (a wheel install), they stop with a one-line error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

from .errors import ConfigError

__all__ = ["add_arguments", "import_benchmark", "run_causal", "run_forecast"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every argument, unparsed: the benchmark's own parser reads them."""
    parser.add_argument("bench_args", nargs=argparse.REMAINDER)


def import_benchmark(module: str) -> ModuleType:
    """Import ``module`` (``benchmarks.<name>.bench``) from a textrisk source checkout.

    Raises:
        ConfigError: no checkout holds it (textrisk installed from a wheel, run outside a checkout).
    """
    path = Path(*module.split(".")).with_suffix(".py")
    for root in (Path(__file__).resolve().parents[1], Path.cwd()):  # the checkout of an editable install, cwd
        if (root / path).is_file() and (root / "textrisk").is_dir():
            if str(root) not in sys.path:
                sys.path.insert(0, str(root))
            return importlib.import_module(module)
    raise ConfigError(f"this command runs the benchmark code of a textrisk source checkout ({path}), which the "
                      "installed package does not hold: run it from a checkout (git clone, then pip install -e .)")


def _run(module: str, prog: str, argv: list[str]) -> int:
    bench = import_benchmark(module)
    parser = argparse.ArgumentParser(prog=prog, description=(bench.__doc__ or "").split("\n\n")[0])
    bench.add_arguments(parser)
    return bench.run(parser.parse_args(argv))


def run_causal(args: argparse.Namespace) -> int:
    """``textrisk causal-bench ...``: ``benchmarks/causal/bench.py`` of the checkout."""
    return _run("benchmarks.causal.bench", "textrisk causal-bench", args.bench_args)


def run_forecast(args: argparse.Namespace) -> int:
    """``textrisk forecast-bench ...``: ``benchmarks/forecast/bench.py`` of the checkout."""
    return _run("benchmarks.forecast.bench", "textrisk forecast-bench", args.bench_args)
