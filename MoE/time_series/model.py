"""TimeSeriesMoE: sequential experts, a router that weighs their proposals, and the debate log.

    window (B, L, C) -> instance normalisation [- learned cycle] -> decomposition -> expert 1 .. expert E,
                     one at a time -> proposals (B, E, H, C_out) [+ learned cycle] -> router weights (B, E)
                     -> weighted forecast

The learned cycle (RouterConfig.cycle_length > 0, see cycle.py) needs each window's phase.
With RouterConfig.quantiles, a linear head reads the experts' summaries (detached) and forecasts those
quantiles around the point forecast, trained with the pinball loss; the point forecast is unchanged.

In training with `sequential=True`, each expert runs under activation checkpointing, so only one
expert's intermediate activations exist at a time (they are recomputed, one expert at a time, in
the backward pass). `sequential=False` keeps them all: faster backward, more memory.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from .config import ExpertConfig, ForecastShape, RouterConfig
from .decomposition import decompose
from .cycle import LearnedCycle
from .experts import Expert


LOSSES = {"mse": nn.functional.mse_loss, "mae": nn.functional.l1_loss, "huber": nn.functional.huber_loss}


@dataclass
class MoEOutput:
    prediction: torch.Tensor            # (B, H) for a single target channel given as an int, else (B, H, C_out)
    weights: torch.Tensor               # (B, E), rows sum to 1
    proposals: torch.Tensor             # (B, E, H, C_out), de-normalised like the prediction
    question_norms: list[torch.Tensor]  # per expert (B, Q): how strongly each question was answered
    quantiles: torch.Tensor | None = None  # (B, H, len(RouterConfig.quantiles)) with a quantile head, else None


def pinball_loss(quantiles: torch.Tensor, target: torch.Tensor, levels: Sequence[float]) -> torch.Tensor:
    """Mean pinball (quantile) loss of forecasts (..., len(levels)) for the target (...)."""
    q = torch.as_tensor(levels, dtype=quantiles.dtype, device=quantiles.device)
    miss = target.unsqueeze(-1).to(quantiles.dtype) - quantiles
    return torch.maximum(q * miss, (q - 1) * miss).mean()


class Router(nn.Module):
    """A learned gate over metadata and the experts' summaries; starts out weighing experts equally."""

    def __init__(self, config: RouterConfig, summary_dims: Sequence[int]):
        super().__init__()
        self.config = config
        self.gate = nn.Sequential(nn.Linear(config.metadata_dim + sum(summary_dims), config.hidden_dim), nn.GELU(),
                                  nn.Linear(config.hidden_dim, len(summary_dims)))
        nn.init.zeros_(self.gate[-1].weight)
        nn.init.zeros_(self.gate[-1].bias)

    def forward(self, summaries: list[torch.Tensor], metadata: torch.Tensor | None) -> torch.Tensor:
        features = summaries if metadata is None else [metadata.to(summaries[0].dtype), *summaries]
        return torch.softmax(self.gate(torch.cat(features, dim=-1)) / self.config.temperature, dim=-1)


class TimeSeriesMoE(nn.Module):
    def __init__(self, experts: Sequence[ExpertConfig], router: RouterConfig = RouterConfig(), *, seq_len: int,
                 horizon: int, input_dim: int, target_channels: int | Sequence[int] | None = None):
        super().__init__()
        if not experts:
            raise ValueError("TimeSeriesMoE needs at least one expert")
        names = [e.name for e in experts]
        if len(set(names)) != len(names):
            raise ValueError(f"expert names must be unique, got {names}")
        mismatched = [e.name for e in experts if e.input_dim is not None and e.input_dim != input_dim]
        if mismatched:
            raise ValueError(f"experts {mismatched} expect another input_dim than the model's {input_dim}")
        self.univariate = isinstance(target_channels, int)
        channels = (target_channels,) if self.univariate else tuple(target_channels or ())
        self.shape = ForecastShape(seq_len, horizon, input_dim, channels)
        self.expert_configs = tuple(experts)
        self.router_config = router
        self.experts = nn.ModuleList(Expert(e, seq_len, horizon) for e in experts)
        self.router = Router(router, [e.d_model for e in experts])
        self.cycle = LearnedCycle(router.cycle_length, input_dim) if router.cycle_length else None
        if router.quantiles and not self.univariate:
            raise ValueError("RouterConfig.quantiles needs a single target channel (target_channels=<int>)")
        self.quantile_head = None
        if router.quantiles:   # starts as a normal band of one window-sd, point + z(q) * sd; training reshapes it
            self.quantile_head = nn.Linear(sum(e.d_model for e in experts), horizon * len(router.quantiles))
            nn.init.zeros_(self.quantile_head.weight)
            with torch.no_grad():
                z = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor(router.quantiles))
                self.quantile_head.bias.copy_(z.repeat(horizon))
        self._warned_precision = False

    def forward(self, window: torch.Tensor, metadata: torch.Tensor | None = None,
                phase: torch.Tensor | None = None) -> MoEOutput:
        """phase: (B,) position of each window's first step in the cycle; only with a learned cycle."""
        self._check_input(window, metadata, phase)
        mean = window.mean(dim=1, keepdim=True)
        std = window.std(dim=1, keepdim=True, unbiased=False).clamp_min(1e-5)
        series = (window - mean) / std
        ahead = 0.0
        if self.cycle is not None:
            series = series - self.cycle(phase, self.shape.seq_len)
            ahead = self.cycle(phase, self.shape.horizon, offset=self.shape.seq_len)
        parts = decompose(series, self.router_config.trend_kernel, self.router_config.seasonal_kernel)
        targets = list(self.shape.target_channels)
        proposals, summaries, norms = [], [], []
        for expert, config in zip(self.experts, self.expert_configs):
            if self.router_config.sequential and self.training and torch.is_grad_enabled():
                proposal, questions = checkpoint(expert, series, parts[config.component], use_reentrant=False)
            else:
                proposal, questions = expert(series, parts[config.component])
            proposal = proposal + ahead
            proposals.append(proposal[..., targets] * std[..., targets] + mean[..., targets])
            summaries.append(questions.mean(dim=(1, 2)))
            norms.append(questions.detach().norm(dim=-1).mean(dim=1))
        weights = self.router(summaries, metadata)
        stacked = torch.stack(proposals, dim=1)                               # (B, E, H, C_out)
        prediction = torch.einsum("be,behc->bhc", weights.to(stacked.dtype), stacked)
        if self.univariate:
            prediction = prediction.squeeze(-1)
        quantiles = None
        if self.quantile_head is not None:   # offsets in the window's scale around the (fixed) point forecast
            offsets = self.quantile_head(torch.cat(summaries, dim=-1).detach()).view(len(window), self.shape.horizon, -1)
            quantiles = prediction.detach().unsqueeze(-1) + offsets * std[:, :, targets[0], None]
        return MoEOutput(prediction, weights, stacked, norms, quantiles)

    def loss(self, output: MoEOutput, target: torch.Tensor, kind: str = "mse") -> torch.Tensor:
        """The mixture's error, plus each expert's own (weighted by aux_loss_weight) so each can stand alone.
        kind: "mse", "mae" (robust to the outliers and level shifts of real series) or "huber" (delta 1)."""
        error = LOSSES[kind]
        target = target.to(output.proposals.dtype)
        full = target.unsqueeze(-1) if self.univariate else target
        mixture = error(output.prediction, target)
        experts = error(output.proposals, full.unsqueeze(1).expand_as(output.proposals))
        total = mixture + self.router_config.aux_loss_weight * experts
        if output.quantiles is not None:
            total = total + pinball_loss(output.quantiles, target, self.router_config.quantiles)
        return total

    def debate_log(self, output: MoEOutput, sample: int = 0) -> list[dict]:
        """Per expert: its proposal, weight, question prompts and question-embedding summary for one sample."""
        log = []
        for i, config in enumerate(self.expert_configs):
            proposal = output.proposals[sample, i].detach().float()
            norms = output.question_norms[i][sample].float()
            log.append({"expert": config.name, "component": config.component,
                        "weight": round(float(output.weights[sample, i].detach()), 4),
                        "proposal_mean": round(float(proposal.mean()), 4),
                        "proposal_first_step": [round(float(v), 4) for v in proposal[0]],
                        "questions": [{"prompt": p, "embedding_norm": round(float(n), 4)}
                                      for p, n in zip(config.prompts(), norms)]})
        return log

    def autocast_dtype(self, device: torch.device) -> torch.dtype | None:
        """The mixed-precision dtype for this device, or None; says once when the CPU forces fp32."""
        precision = self.router_config.precision
        if precision == "fp32":
            return None
        if device.type != "cuda":
            if not self._warned_precision:
                warnings.warn(f"RouterConfig.precision={precision!r} needs CUDA; running in fp32 on the CPU", stacklevel=2)
                self._warned_precision = True
            return None
        return torch.float16 if precision == "fp16" else torch.bfloat16

    def _check_input(self, window: torch.Tensor, metadata: torch.Tensor | None, phase: torch.Tensor | None) -> None:
        s = self.shape
        if window.dim() != 3 or window.shape[1:] != (s.seq_len, s.input_dim):
            raise ValueError(f"window must be (batch, {s.seq_len}, {s.input_dim}), got {tuple(window.shape)}")
        if self.cycle is not None and (phase is None or phase.shape != (window.shape[0],)):
            got = None if phase is None else tuple(phase.shape)
            raise ValueError(f"this model learns a cycle of {self.cycle.cycle_length} steps and needs each window's "
                             f"phase, (batch,) = ({window.shape[0]},), got {got}: give the dataset phases=")
        if self.cycle is None and phase is not None and phase.numel():
            raise ValueError("phase given but RouterConfig.cycle_length is 0")
        if not torch.isfinite(window).all():
            raise ValueError("window contains NaN or infinite values")
        m = self.router_config.metadata_dim
        if m and (metadata is None or metadata.shape != (window.shape[0], m)):
            got = None if metadata is None else tuple(metadata.shape)
            raise ValueError(f"metadata must be (batch, {m}) as RouterConfig.metadata_dim says, got {got}")
        if not m and metadata is not None and metadata.numel():
            raise ValueError("metadata given but RouterConfig.metadata_dim is 0")
