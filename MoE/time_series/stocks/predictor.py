"""StockPredictor: the main price proposal, a TimeSeriesMoE over daily returns and indicator channels.

It forecasts the next `horizon` daily log returns and turns them into prices. Features are causal
(indicators.py) and standardised with statistics of the training rows only; a prediction made on day
t reads rows up to t and nothing after.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from ..config import ExpertConfig, RouterConfig, default_experts
from ..model import TimeSeriesMoE
from ..train import TrainResult, fine_tune
from .data import PriceData
from .indicators import MIN_HISTORY, indicator_table

FEATURES = ("log_return", "sma_gap", "momentum", "volatility", "rsi", "macd_hist")


class StockPredictor:
    def __init__(self, seq_len: int = 40, horizon: int = 5, experts: list[ExpertConfig] | None = None,
                 router: RouterConfig | None = None, device: str | None = None, seed: int = 0):
        self.seq_len, self.horizon, self.seed = seq_len, horizon, seed
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        precision = "fp16" if self.device.type == "cuda" else "fp32"
        torch.manual_seed(seed)
        self.model = TimeSeriesMoE(
            experts or default_experts(d_model=32, n_heads=4, n_layers=1, d_ff=64, patch_len=8, stride=4),
            router or RouterConfig(precision=precision, trend_kernel=9, seasonal_kernel=3),
            seq_len=seq_len, horizon=horizon, input_dim=len(FEATURES), target_channels=0)
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def features(self, prices: PriceData) -> np.ndarray:
        return indicator_table(prices.close)[list(FEATURES)].to_numpy(dtype=np.float64)

    def fit(self, prices: PriceData, end: int | None = None, epochs: int = 8, batch_size: int = 64,
            lr: float = 1e-3, progress: bool = False) -> TrainResult:
        """Train on rows [0, end): windows and targets both end before `end`."""
        end = len(prices) if end is None else end
        raw = self.features(prices)[:end]
        first = MIN_HISTORY
        if end - first < self.seq_len + self.horizon + 10:
            raise ValueError(f"{end} training rows are too few for seq_len {self.seq_len} and horizon {self.horizon}")
        self.mean, self.std = raw[first:].mean(axis=0), raw[first:].std(axis=0) + 1e-8
        scaled = self._scale(raw)
        starts = range(first, end - self.seq_len - self.horizon + 1)
        windows = torch.tensor(np.stack([scaled[s:s + self.seq_len] for s in starts]), dtype=torch.float32)
        targets = torch.tensor(np.stack([raw[s + self.seq_len:s + self.seq_len + self.horizon, 0] for s in starts]),
                               dtype=torch.float32)
        data = TensorDataset(windows, targets * 100, torch.empty(len(starts), 0))  # returns in percent
        return fine_tune(self.model, DataLoader(data, batch_size=batch_size, shuffle=True), epochs=epochs, lr=lr,
                         device=self.device, seed=self.seed, progress=progress)

    @torch.no_grad()
    def predict_returns(self, prices: PriceData, positions) -> np.ndarray:
        """(len(positions), horizon) log returns for the days after each position, from rows <= position."""
        if self.mean is None:
            raise ValueError("StockPredictor.fit must run before predict")
        scaled = self._scale(self.features(prices))
        positions = list(positions)
        bad = [p for p in positions if p - self.seq_len + 1 < MIN_HISTORY or p >= len(prices)]
        if bad:
            raise ValueError(f"position {bad[0]} has too little history (need {MIN_HISTORY + self.seq_len - 1} rows)")
        windows = torch.tensor(np.stack([scaled[p - self.seq_len + 1:p + 1] for p in positions]), dtype=torch.float32)
        self.model.eval()
        out = [self.model(chunk.to(self.device)).prediction.float().cpu() for chunk in windows.split(512)]
        return torch.cat(out).numpy() / 100

    def predict_prices(self, prices: PriceData, positions) -> np.ndarray:
        """(len(positions), horizon) price paths starting from each position's close."""
        positions = list(positions)
        start = prices.close.to_numpy()[positions][:, None]
        return start * np.exp(np.cumsum(self.predict_returns(prices, positions), axis=1))

    def _scale(self, raw: np.ndarray) -> np.ndarray:
        return np.nan_to_num((raw - self.mean) / self.std)
