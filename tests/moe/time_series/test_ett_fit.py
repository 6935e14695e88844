"""A short fit on real data: ETTh1, all 7 channels, input 96, horizon 96, must beat seasonal naive."""

import torch
from torch.utils.data import DataLoader, Subset

from MoE.time_series import (RouterConfig, TimeSeriesMoE, TimeSeriesWindowDataset, default_experts, evaluate,
                             fine_tune, load_table, standard_splits)
from support import shared_data


def seasonal_naive_mse(dataset: TimeSeriesWindowDataset, period: int = 24) -> float:
    errors = []
    for window, target, _ in DataLoader(dataset, batch_size=512):
        guess = window[:, -period:].repeat(1, -(-dataset.horizon // period), 1)[:, :dataset.horizon]
        errors.append(((guess - target) ** 2).sum())
    return float(sum(errors) / (len(dataset) * dataset.horizon * dataset.data.shape[1]))


def test_short_fit_beats_seasonal_naive():
    torch.manual_seed(0)
    splits = standard_splits(load_table(shared_data("ett", "ETTh1.csv")), seq_len=96)
    train = TimeSeriesWindowDataset(splits.train, 96, 96)
    test = TimeSeriesWindowDataset(splits.test, 96, 96)
    model = TimeSeriesMoE(default_experts(d_model=16, n_heads=2, n_layers=1, d_ff=32, num_questions=4),
                          RouterConfig(precision="fp32"), seq_len=96, horizon=96, input_dim=7)
    every_third = Subset(train, range(0, len(train), 3))
    fine_tune(model, DataLoader(every_third, batch_size=64, shuffle=True), epochs=1, lr=2e-3, progress=False)
    mse = evaluate(model, DataLoader(test, batch_size=256))["mse"]
    naive = seasonal_naive_mse(test)
    assert abs(naive - 0.512) < 0.01  # the published seasonal-naive figure, recomputed
    assert mse < naive, (mse, naive)
