"""The learned cycle: phases from timestamps, the profile's slices, and its place in the model and training."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader

from MoE.time_series import (LearnedCycle, RouterConfig, TimeSeriesMoE, TimeSeriesWindowDataset,
                             _generate_synthetic_series, cycle_phases, default_experts, evaluate, fine_tune,
                             load_model)

SMALL = dict(d_model=16, n_heads=2, n_layers=1, d_ff=32, dropout=0.0, patch_len=8, stride=4, num_questions=4)


def model(cycle_length=0, seed=0):
    torch.manual_seed(seed)
    return TimeSeriesMoE(default_experts(**SMALL), RouterConfig(precision="fp32", cycle_length=cycle_length),
                         seq_len=48, horizon=12, input_dim=2)


def test_the_profile_wraps_round():
    cycle = LearnedCycle(24, 1)
    with torch.no_grad():
        cycle.profile.copy_(torch.arange(24.0).unsqueeze(-1))
    assert cycle(torch.tensor([22, 0]), 4)[..., 0].tolist() == [[22, 23, 0, 1], [0, 1, 2, 3]]
    assert cycle(torch.tensor([22]), 3, offset=5)[0, :, 0].tolist() == [3, 4, 5]


def test_phases_from_timestamps():
    quarter_hours = pd.date_range("2016-07-01 00:00", periods=200, freq="15min")
    assert cycle_phases(quarter_hours, 96)[:3].tolist() == [0, 1, 2]
    assert cycle_phases(quarter_hours, 96)[96] == 0
    hours = pd.date_range("2016-07-01 05:00", periods=30, freq="h")
    assert cycle_phases(hours, 24)[:2].tolist() == [5, 6]
    assert cycle_phases(hours[10:], 24)[0] == cycle_phases(hours, 24)[10]  # a later slice agrees
    assert cycle_phases(pd.date_range("2016-07-01 05:00", periods=3, freq="h", tz="Europe/Berlin"), 24)[0] == 5
    assert cycle_phases(hours[:1], 24, step_minutes=60).tolist() == [5]
    with pytest.raises(ValueError, match="two timestamps"):
        cycle_phases(hours[:1], 24)


def test_a_zero_profile_changes_nothing():
    plain, cycled = model(), model(cycle_length=24)
    cycled.load_state_dict(plain.state_dict(), strict=False)
    x = torch.randn(3, 48, 2)
    assert torch.allclose(plain(x).prediction, cycled(x, phase=torch.tensor([0, 7, 23])).prediction, atol=1e-6)


def test_the_window_and_the_horizon_train_their_slice_of_the_profile():
    m = model(cycle_length=96).train()
    out = m(torch.randn(1, 48, 2), phase=torch.tensor([90]))
    m.loss(out, torch.randn(1, 12, 2)).backward()
    touched = m.cycle.profile.grad.abs().sum(-1) > 0
    expected = torch.zeros(96, dtype=torch.bool)
    expected[(90 + torch.arange(60)) % 96] = True  # 48 window steps then 12 ahead, wrapping past 95
    assert torch.equal(touched, expected)


def test_phase_errors():
    with pytest.raises(ValueError, match=r"needs each window's phase"):
        model(cycle_length=24)(torch.randn(2, 48, 2))
    with pytest.raises(ValueError, match="cycle_length is 0"):
        model()(torch.randn(2, 48, 2), phase=torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="cycle_length must be 0"):
        RouterConfig(cycle_length=1)
    with pytest.raises(ValueError, match="one int per row"):
        TimeSeriesWindowDataset(np.zeros((100, 2)), 48, 12, phases=np.arange(99))


def test_training_and_checkpoint_with_phases(tmp_path):
    series = _generate_synthetic_series(400, 2, seed=3)
    phases = np.arange(400) % 24
    train = TimeSeriesWindowDataset(series[:300], 48, 12, phases=phases[:300])
    val = TimeSeriesWindowDataset(series[252:], 48, 12, phases=phases[252:])
    assert len(train[5]) == 4 and int(train[5][3]) == 5 and int(val[0][3]) == 252 % 24
    m = model(cycle_length=24)
    before = evaluate(m, DataLoader(val, batch_size=64))["mse"]
    path = tmp_path / "cycle.pt"
    fine_tune(m, DataLoader(train, batch_size=32, shuffle=True), epochs=2, lr=3e-3, checkpoint_path=path,
              progress=False)
    assert evaluate(m, DataLoader(val, batch_size=64))["mse"] < before
    assert m.cycle.profile.abs().sum() > 0  # the profile was trained
    loaded, _ = load_model(path)
    window, _, _, phase = next(iter(DataLoader(val, batch_size=8)))
    m.eval(), loaded.eval()
    assert loaded.router_config.cycle_length == 24
    assert torch.allclose(m(window, phase=phase).prediction, loaded(window, phase=phase).prediction)
