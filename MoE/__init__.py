"""Mixtures of experts built on the Qwen3 runner: text-to-SQL (MoE.sql) and time series (MoE.time_series)."""
