"""The time-series mixture of experts: sequential transformer experts with Q-Former question tokens.

    from MoE.time_series import ExpertConfig, RouterConfig, TimeSeriesMoE, TimeSeriesWindowDataset, fine_tune
"""

from .config import ExpertConfig, ForecastShape, RouterConfig, default_experts
from .cycle import LearnedCycle, cycle_phases
from .data import (Normalizer, Splits, TimeSeriesWindowDataset, _build_metadata, _generate_synthetic_series,
                   calendar_metadata, load_table, standard_splits)
from .model import MoEOutput, TimeSeriesMoE
from .train import TrainResult, evaluate, fine_tune, load_model, save_checkpoint

__all__ = [
    "ExpertConfig", "ForecastShape", "LearnedCycle", "MoEOutput", "Normalizer", "RouterConfig", "Splits", "TimeSeriesMoE",
    "TimeSeriesWindowDataset", "TrainResult", "_build_metadata", "_generate_synthetic_series", "calendar_metadata",
    "cycle_phases", "default_experts", "evaluate", "fine_tune", "load_model", "load_table", "save_checkpoint", "standard_splits",
]
