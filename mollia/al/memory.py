"""Peak memory of an AL iteration: CUDA's max_memory_allocated on GPU, the process's peak RSS on CPU.

The RSS peak (``getrusage`` ru_maxrss) is the peak over the process's life so far, which is what
bounds a machine; the CUDA peak is reset at the start of each iteration.
"""

from __future__ import annotations

import resource
import sys


def reset_peak(device: str) -> None:
    if str(device).startswith("cuda"):
        import torch

        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mb(device: str) -> tuple[float, str]:
    """(peak in MiB, "cuda" | "rss")."""
    if str(device).startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated(device) / 2**20, "cuda"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes
    return (peak / 2**20 if sys.platform == "darwin" else peak / 1024), "rss"
