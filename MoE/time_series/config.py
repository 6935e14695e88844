"""Configuration of the time-series mixture of experts, as frozen dataclasses checked on creation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Component = Literal["trend", "seasonal", "residual", "raw"]
Precision = Literal["fp16", "bf16", "fp32"]


@dataclass(frozen=True)
class ExpertConfig:
    """One transformer expert. `component` is the part of the window it specialises in (see decomposition.py)."""

    name: str
    component: Component = "raw"
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 2
    d_ff: int = 128
    dropout: float = 0.1
    patch_len: int = 16
    stride: int = 8
    num_questions: int = 8
    question_templates: tuple[str, ...] = ()
    input_dim: int | None = None  # when set, must equal the model's input dimension

    def __post_init__(self):
        checks = [
            (self.component in ("trend", "seasonal", "residual", "raw"), f"component must be trend, seasonal, "
                                                                          f"residual or raw, got {self.component!r}"),
            (self.d_model > 0 and self.d_model % self.n_heads == 0, f"d_model {self.d_model} must be a positive "
                                                                   f"multiple of n_heads {self.n_heads}"),
            (self.n_layers >= 0 and self.d_ff > 0, "n_layers must be >= 0 and d_ff > 0"),
            (0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}"),
            (0 < self.stride <= self.patch_len, f"stride {self.stride} must be in 1..patch_len ({self.patch_len})"),
            (self.num_questions > 0, "num_questions must be positive"),
            (len(self.question_templates) <= self.num_questions,
             f"{len(self.question_templates)} question_templates for {self.num_questions} questions"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"ExpertConfig '{self.name}': {message}")
        object.__setattr__(self, "question_templates", tuple(self.question_templates))

    def prompts(self) -> list[str]:
        """A human-readable prompt for each question token (templates first, then generic ones)."""
        generic = [f"{self.name}: what does the {self.component} component say about step group {i + 1}?"
                   for i in range(self.num_questions)]
        return list(self.question_templates) + generic[len(self.question_templates):]


@dataclass(frozen=True)
class RouterConfig:
    precision: Precision = "fp16"     # autocast on CUDA; the CPU always runs fp32
    hidden_dim: int = 64
    metadata_dim: int = 0
    sequential: bool = True           # one expert's activations alive at a time (activation checkpointing)
    temperature: float = 1.0
    aux_loss_weight: float = 0.3      # each expert is also trained as a standalone forecaster
    trend_kernel: int = 25            # moving-average window of the trend component
    seasonal_kernel: int = 5          # smoothing of the seasonal component
    cycle_length: int = 0             # > 0: learn a periodic profile of this many steps (cycle.py); needs phases
    # quantile levels (e.g. 0.1, 0.9) a head beside the router forecasts, trained with the pinball loss on
    # the frozen experts' summaries (the point forecast is not changed by it); single-target models only
    quantiles: tuple[float, ...] = ()

    def __post_init__(self):
        if self.precision not in ("fp16", "bf16", "fp32"):
            raise ValueError(f"RouterConfig: precision must be fp16, bf16 or fp32, got {self.precision!r}")
        if self.temperature <= 0 or self.hidden_dim <= 0 or self.metadata_dim < 0:
            raise ValueError("RouterConfig: temperature and hidden_dim must be positive, metadata_dim >= 0")
        if self.trend_kernel < 1 or self.seasonal_kernel < 1:
            raise ValueError("RouterConfig: trend_kernel and seasonal_kernel must be >= 1")
        if self.cycle_length < 0 or self.cycle_length == 1:
            raise ValueError(f"RouterConfig: cycle_length must be 0 (off) or >= 2, got {self.cycle_length}")
        if not all(0 < q < 1 for q in self.quantiles):
            raise ValueError(f"RouterConfig: quantiles must lie between 0 and 1, got {list(self.quantiles)}")
        object.__setattr__(self, "quantiles", tuple(self.quantiles))


def default_experts(**overrides) -> list[ExpertConfig]:
    """The seed's three experts: trend, seasonality and anomaly (the residual)."""
    return [
        ExpertConfig("trend_expert", "trend", question_templates=(
            "trend_expert: is the level rising or falling at the end of the window?",
            "trend_expert: how steep is the recent slope?"), **overrides),
        ExpertConfig("seasonal_expert", "seasonal", question_templates=(
            "seasonal_expert: does the daily cycle strengthen?",
            "seasonal_expert: where in the cycle does the window end?"), **overrides),
        ExpertConfig("anomaly_expert", "residual", question_templates=(
            "anomaly_expert: are there spikes the other experts would miss?",
            "anomaly_expert: is the noise level changing?"), **overrides),
    ]


@dataclass(frozen=True)
class ForecastShape:
    """What the model maps: (seq_len, input_dim) windows to (horizon, len(target_channels)) forecasts."""

    seq_len: int
    horizon: int
    input_dim: int
    target_channels: tuple[int, ...] = field(default=())

    def __post_init__(self):
        if self.seq_len < 2 or self.horizon < 1 or self.input_dim < 1:
            raise ValueError(f"seq_len must be >= 2, horizon and input_dim >= 1 (got {self.seq_len}, "
                             f"{self.horizon}, {self.input_dim})")
        channels = tuple(self.target_channels) or tuple(range(self.input_dim))
        bad = [c for c in channels if not 0 <= c < self.input_dim]
        if bad:
            raise ValueError(f"target_channels {bad} outside 0..{self.input_dim - 1}")
        object.__setattr__(self, "target_channels", channels)
