"""fine_tune: train a TimeSeriesMoE on any DataLoader of (window, target, metadata) batches
(plus each window's phase, (window, target, metadata, phase), for a model with a learned cycle).

Mixed precision (autocast + gradient scaling for fp16), gradient clipping, early stopping on a
validation loader, a progress bar with loss and throughput, checkpoints written atomically after
every epoch, and resuming that continues the same run (each epoch re-seeds from seed + epoch, so a
resumed run draws the same batches and dropout masks as an uninterrupted one).

Several processes (torchrun): call torch.distributed.init_process_group first and give each rank a
loader over its share (DistributedSampler); fine_tune wraps the model in DistributedDataParallel,
averages the validation loss across ranks, and only rank 0 writes checkpoints and shows progress.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from .config import ExpertConfig, RouterConfig
from .model import LOSSES, TimeSeriesMoE

CHECKPOINT_FORMAT = 1
LR_SCHEDULES = {  # epoch, epochs -> factor on the base learning rate; a function of the epoch, so resuming needs no state
    "constant": lambda epoch, epochs: 1.0,
    "halve": lambda epoch, epochs: 0.5 ** epoch,
    "cosine": lambda epoch, epochs: 0.5 * (1 + math.cos(math.pi * epoch / epochs)),
}


@dataclass
class TrainResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_val_loss: float | None = None
    best_epoch: int | None = None
    stopped_early: bool = False


def fine_tune(model: TimeSeriesMoE, loader, *, epochs: int = 5, lr: float = 1e-3, weight_decay: float = 1e-4,
              val_loader=None, patience: int = 3, clip_norm: float = 1.0, device: str | torch.device | None = None,
              checkpoint_path: str | Path | None = None, resume: bool = False, seed: int = 0,
              progress: bool = True, normalizer: dict | None = None, lr_schedule: str = "constant",
              loss: str = "mse") -> TrainResult:
    """Train `model` for up to `epochs`; with `val_loader`, stop after `patience` epochs without a better
    validation MSE and end on the best epoch's weights. `lr_schedule`: "constant", "halve" (the learning
    rate halves every epoch, as in the Informer/Autoformer ETT recipes) or "cosine" (down to 0 over `epochs`).
    `loss`: the training loss, "mse", "mae" or "huber"; validation and early stopping always use MSE."""
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {sorted(LR_SCHEDULES)}, got {lr_schedule!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model.to(device)
    distributed = dist.is_available() and dist.is_initialized()
    rank = dist.get_rank() if distributed else 0
    trainable = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    dtype = model.autocast_dtype(device)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    result, start_epoch, best_state, bad_epochs = TrainResult(), 0, None, 0

    if resume and checkpoint_path and Path(checkpoint_path).is_file():
        state = torch.load(checkpoint_path, map_location=device, weights_only=False)
        _check_format(state, checkpoint_path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        result = TrainResult(**state["result"])
        start_epoch, bad_epochs, best_state = state["epoch"] + 1, state["bad_epochs"], state.get("best_model")

    for epoch in range(start_epoch, epochs):
        _seed_everything(seed + epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr * LR_SCHEDULES[lr_schedule](epoch, epochs)
        if hasattr(getattr(loader, "sampler", None), "set_epoch"):
            loader.sampler.set_epoch(epoch)
        started, seen, total = time.perf_counter(), 0, 0.0
        trainable.train()
        bar = _progress(loader, f"epoch {epoch + 1}/{epochs}", enabled=progress and rank == 0)
        for batch in bar:
            window, target, meta, phase = _on_device(batch, device)
            with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
                batch_loss = model.loss(trainable(window, meta, phase), target, loss)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(batch_loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            scaler.step(optimizer)
            scaler.update()
            seen += len(window)
            total += float(batch_loss.detach()) * len(window)
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{total / seen:.4f}", samples_s=f"{seen / (time.perf_counter() - started):.0f}")
        seconds = time.perf_counter() - started
        entry = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"], "train_loss": total / max(seen, 1), "seconds": seconds,
                 "samples_per_s": seen / max(seconds, 1e-9)}
        if val_loader is not None:
            entry["val_loss"] = evaluate(model, val_loader, device)["mse"]
            if result.best_val_loss is None or entry["val_loss"] < result.best_val_loss:
                result.best_val_loss, result.best_epoch, bad_epochs = entry["val_loss"], epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                bad_epochs += 1
        result.history.append(entry)
        stop = val_loader is not None and bad_epochs >= patience
        if checkpoint_path and rank == 0:
            save_checkpoint(checkpoint_path, model, optimizer=optimizer, scaler=scaler, epoch=epoch, result=result,
                            bad_epochs=bad_epochs, best_model=best_state, normalizer=normalizer)
        if stop:
            result.stopped_early = True
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return result


@torch.no_grad()
def evaluate(model: TimeSeriesMoE, loader, device: str | torch.device | None = None) -> dict[str, float]:
    """MSE and MAE over every window of the loader (summed across ranks when distributed)."""
    device = torch.device(device or next(model.parameters()).device)
    was_training = model.training
    model.eval()
    sums = torch.zeros(3, dtype=torch.float64, device=device)  # squared error, absolute error, count
    for batch in loader:
        window, target, meta, phase = _on_device(batch, device)
        out = model(window, meta, phase)
        error = out.prediction.float() - target
        sums += torch.stack([(error ** 2).sum().double(), error.abs().sum().double(),
                             torch.tensor(error.numel(), dtype=torch.float64, device=device)])
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(sums)
    model.train(was_training)
    return {"mse": float(sums[0] / sums[2]), "mae": float(sums[1] / sums[2])}


def _on_device(batch, device) -> tuple:
    """(window, target, metadata[, phase]) -> the four on `device`; empty metadata and a missing phase as None."""
    window, target, metadata, *phase = batch
    meta = metadata.to(device) if metadata.numel() else None
    return window.to(device), target.to(device), meta, phase[0].to(device) if phase else None


def save_checkpoint(path: str | Path, model: TimeSeriesMoE, **extra: Any) -> None:
    """Everything needed to rebuild and resume, written to a temporary file and renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"format_version": CHECKPOINT_FORMAT, "model": model.state_dict(),
             "experts": [asdict(e) for e in model.expert_configs], "router": asdict(model.router_config),
             "shape": {"seq_len": model.shape.seq_len, "horizon": model.shape.horizon,
                       "input_dim": model.shape.input_dim,
                       "target_channels": model.shape.target_channels[0] if model.univariate
                       else list(model.shape.target_channels)}}
    for key, value in extra.items():
        if key in ("optimizer", "scaler"):
            value = value.state_dict()
        elif key == "result":
            value = asdict(value)
        state[key] = value
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_model(path: str | Path, map_location: str = "cpu") -> tuple[TimeSeriesMoE, dict]:
    """Rebuild a model from a checkpoint; returns it with the checkpoint's other contents."""
    state = torch.load(path, map_location=map_location, weights_only=False)
    _check_format(state, path)
    experts = [ExpertConfig(**{**e, "question_templates": tuple(e["question_templates"])}) for e in state["experts"]]
    model = TimeSeriesMoE(experts, RouterConfig(**state["router"]), **state["shape"])
    model.load_state_dict(state["model"])
    return model, state


def _check_format(state: dict, path) -> None:
    if not isinstance(state, dict) or state.get("format_version") != CHECKPOINT_FORMAT:
        found = state.get("format_version") if isinstance(state, dict) else None
        raise ValueError(f"{path}: checkpoint format {found}, this version reads {CHECKPOINT_FORMAT}")


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _progress(iterable, description: str, enabled: bool):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=description, leave=False, dynamic_ncols=True, disable=None)  # None: off when not a TTY
