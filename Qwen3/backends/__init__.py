"""Backends: one file per way of running a model, all behind the `Backend` protocol in base.py."""

from .base import Backend, DeltaCallback

__all__ = ["Backend", "DeltaCallback", "create_backend"]


def create_backend(config) -> Backend:
    """Build the backend named by `config.backend`; heavy imports happen only for the chosen one."""
    if config.backend == "transformers":
        from .hf import TransformersGenerator
        from .local import LocalChatBackend

        return LocalChatBackend(TransformersGenerator(config))
    if config.backend == "llamacpp":
        from .llamacpp import LlamaCppGenerator
        from .local import LocalChatBackend

        return LocalChatBackend(LlamaCppGenerator(config))
    if config.backend == "openai":
        from .http import OpenAIBackend

        return OpenAIBackend(config)
    raise ValueError(f"unknown backend {config.backend!r}")
