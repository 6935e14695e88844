import os

import pytest
import torch
from torch.utils.data import DataLoader

from MoE.time_series import (RouterConfig, TimeSeriesMoE, TimeSeriesWindowDataset, _generate_synthetic_series,
                             default_experts, evaluate, fine_tune, load_model)

SMALL = dict(d_model=16, n_heads=2, n_layers=1, d_ff=32, dropout=0.1, patch_len=8, stride=4, num_questions=4)


def setup(seed=0):
    torch.manual_seed(seed)
    series = _generate_synthetic_series(400, 2, seed=3)
    train = TimeSeriesWindowDataset(series[:300], 48, 12, target_channels=0)
    val = TimeSeriesWindowDataset(series[252:], 48, 12, target_channels=0)
    model = TimeSeriesMoE(default_experts(**SMALL), RouterConfig(precision="fp32"), seq_len=48, horizon=12,
                          input_dim=2, target_channels=0)
    return model, DataLoader(train, batch_size=32, shuffle=True), DataLoader(val, batch_size=64)


def test_training_lowers_the_loss():
    model, train, val = setup()
    before = evaluate(model, val)["mse"]
    result = fine_tune(model, train, epochs=3, val_loader=val, progress=False)
    assert result.history[-1]["val_loss"] < before and result.history[-1]["samples_per_s"] > 0


def test_checkpoint_round_trip(tmp_path):
    model, train, val = setup()
    path = tmp_path / "ckpt.pt"
    fine_tune(model, train, epochs=1, checkpoint_path=path, progress=False, normalizer={"mean": [1.0], "std": [2.0]})
    loaded, state = load_model(path)
    model.eval(), loaded.eval()
    x = next(iter(val))[0]
    assert torch.allclose(model(x).prediction, loaded(x).prediction)
    assert state["normalizer"] == {"mean": [1.0], "std": [2.0]} and state["format_version"] == 1
    assert loaded.expert_configs == model.expert_configs and loaded.univariate
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary file left behind


def test_resume_continues_the_same_run(tmp_path):
    full, train, val = setup()
    uninterrupted = fine_tune(full, train, epochs=3, val_loader=val, seed=5, progress=False)

    part, train, val = setup()
    path = tmp_path / "run.pt"
    fine_tune(part, train, epochs=2, val_loader=val, seed=5, checkpoint_path=path, progress=False)
    resumed_model, train, val = setup(seed=99)  # fresh weights: everything must come from the checkpoint
    resumed = fine_tune(resumed_model, train, epochs=3, val_loader=val, seed=5, checkpoint_path=path, resume=True,
                        progress=False)
    losses = lambda r: [(round(h["train_loss"], 6), round(h["val_loss"], 6)) for h in r.history]
    assert losses(resumed) == losses(uninterrupted)
    for a, b in zip(full.state_dict().values(), resumed_model.state_dict().values()):
        assert torch.allclose(a, b)


def test_learning_rate_schedules():
    lrs = {}
    for schedule in ("constant", "halve", "cosine"):
        model, train, _ = setup()
        lrs[schedule] = [h["lr"] for h in fine_tune(model, train, epochs=3, lr=0.01, lr_schedule=schedule,
                                                    progress=False).history]
    assert lrs["constant"] == [0.01] * 3
    assert lrs["halve"] == pytest.approx([0.01, 0.005, 0.0025])
    assert lrs["cosine"] == pytest.approx([0.01, 0.0075, 0.0025])
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        fine_tune(setup()[0], train, lr_schedule="linear", progress=False)
    with pytest.raises(ValueError, match="loss must be one of"):
        fine_tune(setup()[0], train, loss="l2", progress=False)


def test_mae_loss_trains_and_validates_on_mse():
    model, train, val = setup()
    before = evaluate(model, val)["mse"]
    result = fine_tune(model, train, epochs=2, val_loader=val, loss="mae", progress=False)
    assert result.history[-1]["val_loss"] < before
    assert result.best_val_loss == pytest.approx(evaluate(model, val)["mse"])


def test_resume_keeps_the_schedule(tmp_path):
    full, train, val = setup()
    uninterrupted = fine_tune(full, train, epochs=3, val_loader=val, lr_schedule="halve", progress=False)
    part, train, val = setup()
    path = tmp_path / "run.pt"
    fine_tune(part, train, epochs=1, val_loader=val, lr_schedule="halve", checkpoint_path=path, progress=False)
    resumed = fine_tune(setup(seed=7)[0], train, epochs=3, val_loader=val, lr_schedule="halve", checkpoint_path=path,
                        resume=True, progress=False)
    assert [round(h["val_loss"], 6) for h in resumed.history] == [round(h["val_loss"], 6) for h in uninterrupted.history]


def test_early_stopping_restores_the_best_weights():
    model, train, val = setup()
    result = fine_tune(model, train, epochs=10, lr=0.0, val_loader=val, patience=2, progress=False)
    assert result.stopped_early and len(result.history) == 3 and result.best_epoch == 0


def test_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    model, train, _ = setup()
    path = tmp_path / "ckpt.pt"
    fine_tune(model, train, epochs=1, checkpoint_path=path, progress=False)
    before = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        with open(f, "wb") as handle:
            handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        fine_tune(model, train, epochs=1, checkpoint_path=path, progress=False)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.pt"]


def test_unknown_checkpoint_format(tmp_path):
    torch.save({"format_version": 99}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="checkpoint format 99"):
        load_model(tmp_path / "x.pt")
