"""A decode engine for Qwen3 on one device: static KV cache, prefix reuse, batching, on-device sampling,
and the decode step as a CUDA graph on GPUs. See docs/decode-engine.md."""

from .engine import DecodeEngine, EngineSettings, Generation
from .forward import Qwen3Forward, UnsupportedModel
from .kv_cache import PrefixCache, StaticKVCache

__all__ = ["DecodeEngine", "EngineSettings", "Generation", "PrefixCache", "Qwen3Forward", "StaticKVCache",
           "UnsupportedModel"]
