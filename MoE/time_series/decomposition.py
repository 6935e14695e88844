"""Split a window into trend, seasonal and residual parts that add back up to the window.

trend    = moving average over `trend_kernel` steps (edges padded with the end values)
seasonal = moving average over `seasonal_kernel` steps of what the trend leaves
residual = what is left: spikes and noise, the anomaly expert's view
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def moving_average(x: torch.Tensor, kernel: int) -> torch.Tensor:
    """Centred moving average along time of (batch, time, channels), same length out."""
    if kernel <= 1:
        return x
    front, back = (kernel - 1) // 2, kernel // 2
    padded = torch.cat([x[:, :1].expand(-1, front, -1), x, x[:, -1:].expand(-1, back, -1)], dim=1)
    return F.avg_pool1d(padded.transpose(1, 2), kernel_size=kernel, stride=1).transpose(1, 2)


def decompose(x: torch.Tensor, trend_kernel: int, seasonal_kernel: int) -> dict[str, torch.Tensor]:
    trend = moving_average(x, trend_kernel)
    seasonal = moving_average(x - trend, seasonal_kernel)
    return {"trend": trend, "seasonal": seasonal, "residual": x - trend - seasonal, "raw": x}
