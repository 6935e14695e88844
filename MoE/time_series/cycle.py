"""A learned periodic profile (the residual-cycle idea of CycleNet, Lin et al. 2024).

Many series repeat a daily or weekly shape. The model learns that shape once, per channel, as a table
of `cycle_length` values; each window has it subtracted before the experts see it and the forecast
gets it added back, so the experts forecast what the cycle does not explain. Which slice of the
table a window needs is given by its phase: the position of its first step in the cycle.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class LearnedCycle(nn.Module):
    def __init__(self, cycle_length: int, channels: int):
        super().__init__()
        self.cycle_length = cycle_length
        self.profile = nn.Parameter(torch.zeros(cycle_length, channels))  # zero: starts as "no cycle"

    def forward(self, phase: torch.Tensor, length: int, offset: int = 0) -> torch.Tensor:
        """(batch,) phases -> (batch, length, channels): the profile from phase + offset on, wrapping round."""
        steps = phase.long().view(-1, 1) + offset + torch.arange(length, device=phase.device)
        return self.profile[steps % self.cycle_length]


def cycle_phases(timestamps, cycle_length: int, step_minutes: float | None = None) -> np.ndarray:
    """(n,) int phase of each timestamp in a cycle of `cycle_length` steps (e.g. 24 hourly steps = a day).

    Counted from the Unix epoch, so slices of the same series (train, validation, test) agree.
    `step_minutes` defaults to the median spacing of the timestamps.
    """
    import pandas as pd

    ts = pd.DatetimeIndex(timestamps)
    if ts.tz is not None:  # a daily cycle follows the local clock
        ts = ts.tz_localize(None)
    if len(ts) < 2 and step_minutes is None:
        raise ValueError("cycle_phases needs two timestamps or step_minutes")
    minutes = np.asarray((ts - pd.Timestamp(0)) // pd.Timedelta(minutes=1), dtype=np.int64)
    step = step_minutes or float(np.median(np.diff(minutes)))
    if step <= 0:
        raise ValueError(f"timestamps must increase (median step {step} minutes)")
    return (np.round(minutes / step).astype(np.int64) % cycle_length).astype(np.int64)
