"""The time-series mixture of experts: sequential transformer experts with Q-Former question tokens.

    from MoE.time_series import Forecaster, ForecastConfig         # your own series (forecast.py)
    forecaster = Forecaster(ForecastConfig(horizon=28)).fit("sales.csv", target="revenue", date="date")
    forecaster.predict(); forecaster.backtest(); forecaster.save("model.pt")

    from MoE.time_series import ExpertConfig, RouterConfig, TimeSeriesMoE, TimeSeriesWindowDataset, fine_tune
"""

from .config import ExpertConfig, ForecastShape, RouterConfig, default_experts
from .cycle import LearnedCycle, cycle_phases
from .data import (Normalizer, Splits, TimeSeriesWindowDataset, _build_metadata, _generate_synthetic_series,  # noqa: F401
                   build_metadata, calendar_metadata, generate_synthetic_series, load_table, standard_splits)
from .backtest import BacktestReport
from .forecast import ForecastConfig, Forecaster
from .intervals import ConformalIntervals, QuantileIntervals
from .model import MoEOutput, TimeSeriesMoE
from .train import TrainResult, evaluate, fine_tune, load_model, save_checkpoint

# The seed's names _build_metadata and _generate_synthetic_series are still importable from here.
__all__ = [
    "BacktestReport", "ConformalIntervals", "ExpertConfig", "ForecastConfig", "ForecastShape", "Forecaster",
    "LearnedCycle", "MoEOutput", "Normalizer", "QuantileIntervals", "RouterConfig", "Splits", "TimeSeriesMoE", "TimeSeriesWindowDataset",
    "TrainResult", "build_metadata", "calendar_metadata", "cycle_phases", "default_experts", "evaluate", "fine_tune",
    "generate_synthetic_series", "load_model", "load_table", "save_checkpoint", "standard_splits",
]
