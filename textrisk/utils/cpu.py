"""What the CPU can compute fast: its model name and the instruction sets that decide the scoring backend.

Read from ``lscpu`` or ``/proc/cpuinfo`` (Linux) or ``sysctl`` (macOS); elsewhere every flag reads as absent, so
the choice falls back to what needs none of them.
"""

from __future__ import annotations

import functools
import os
import platform
import re
import subprocess
from dataclasses import dataclass, field

__all__ = ["FLAGS", "CpuInfo", "cpu_info"]

#: Instruction sets reported (x86 names; an ARM CPU's BF16 support is reported as ``bf16``).
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8", "amx_tile", "bf16")


@dataclass(frozen=True)
class CpuInfo:
    """The CPU's model name, logical CPUs and which of :data:`FLAGS` it reports."""

    model: str
    cpus: int
    flags: dict[str, bool] = field(default_factory=dict)

    @property
    def native_bf16(self) -> bool:
        """Whether the CPU computes bfloat16 matrix products in hardware (AVX512-BF16, AMX-BF16 or ARM BF16)."""
        return any(self.flags.get(flag) for flag in ("avx512_bf16", "amx_bf16", "bf16"))

    @property
    def int8_dot(self) -> bool:
        """Whether the CPU has int8 dot-product instructions (VNNI or AMX-INT8)."""
        return any(self.flags.get(flag) for flag in ("avx512_vnni", "avx_vnni", "amx_int8"))

    def describe(self) -> str:
        """One line: model, CPUs and the flags present."""
        present = [flag for flag, on in self.flags.items() if on]
        return f"{self.model}, {self.cpus} logical CPUs; " + (", ".join(present) if present else "none of " +
                                                               ", ".join(FLAGS))


def _run(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


@functools.lru_cache(maxsize=1)
def cpu_info() -> CpuInfo:
    """The CPU this process runs on (read once per process)."""
    model_name, flags_text = None, ""
    if platform.system() == "Darwin":
        model_name = _run(["sysctl", "-n", "machdep.cpu.brand_string"]).strip() or None
        if _run(["sysctl", "-n", "hw.optional.arm.FEAT_BF16"]).strip() == "1":
            flags_text = "bf16"
    else:
        text = _run(["lscpu"])
        found_model = re.search(r"^Model name:\s*(.+)$", text, re.M)
        found_flags = re.search(r"^Flags:\s*(.+)$", text, re.M)
        if not (found_model and found_flags) and os.path.exists("/proc/cpuinfo"):
            try:
                with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                text = ""
            found_model = found_model or re.search(r"^(?:model name|Model)\s*:\s*(.+)$", text, re.M)
            found_flags = found_flags or re.search(r"^(?:flags|Features)\s*:\s*(.+)$", text, re.M)
        model_name = found_model.group(1).strip() if found_model else None
        flags_text = found_flags.group(1) if found_flags else ""
    present = set(flags_text.split())
    return CpuInfo(model=model_name or platform.processor() or "unknown", cpus=os.cpu_count() or 1,
                   flags={flag: flag in present for flag in FLAGS})
