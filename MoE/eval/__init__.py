"""Measuring the SQL orchestrator: Spider-layout datasets, execution accuracy, the benchmark loop."""
