"""The stock consensus workflow: a main predictor, indicator experts that challenge it, and a debate."""

from .data import PriceData, fabricate_prices, load_prices
from .debate import DebateExpert, DebateResult, Stance, default_debate_experts, run_debate
from .indicators import indicator_table
from .predictor import StockPredictor
from .system import StockConsensusSystem

__all__ = ["DebateExpert", "DebateResult", "PriceData", "Stance", "StockConsensusSystem", "StockPredictor",
           "default_debate_experts", "fabricate_prices", "indicator_table", "load_prices", "run_debate"]
