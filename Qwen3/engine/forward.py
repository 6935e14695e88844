"""Qwen3's forward pass for decoding, over the weights of a loaded transformers model.

The same arithmetic as transformers' `modeling_qwen3.py` (RMSNorm, per-head q/k norms, rotary
embeddings, grouped-query attention, SwiGLU MLP), but against a StaticKVCache with fixed shapes:
a captured step reads the whole preallocated cache under a mask, so its tensors never change size
and it can be captured once in a CUDA graph; where the host knows the slot (prefill, the CPU's eager
steps) attention reads only the slots written so far. The modules are the loaded model's own.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .kv_cache import StaticKVCache

_STATIC_ROPE = ("default", "linear", "yarn", "llama3")  # inverse frequencies fixed at load


class UnsupportedModel(ValueError):
    """The model is not one this engine runs; the caller falls back to generate()."""


class Qwen3Forward:
    def __init__(self, model, weight_major_steps: bool = True):
        config = model.config
        if getattr(config, "model_type", "") not in ("qwen3", "qwen2"):
            raise UnsupportedModel(f"the decode engine runs Qwen3 (and Qwen2) models, not {config.model_type!r}")
        rotary = model.model.rotary_emb
        if getattr(rotary, "rope_type", "default") not in _STATIC_ROPE:
            raise UnsupportedModel(f"rope type {rotary.rope_type!r} changes with length; not supported")
        if getattr(config, "use_sliding_window", False):
            raise UnsupportedModel("sliding-window attention is not supported by the decode engine")
        self.model = model
        self.layers = model.model.layers
        self.num_layers = len(self.layers)
        attention = self.layers[0].self_attn
        self.head_dim = attention.head_dim
        self.num_heads = config.num_attention_heads
        self.num_kv_heads = config.num_key_value_heads
        self.scaling = attention.scaling
        self.inv_freq = rotary.inv_freq
        self.rope_scale = float(getattr(rotary, "attention_scaling", 1.0))
        self.vocab_size = config.vocab_size
        self.linear = _weight_major_linear if weight_major_steps and self.device.type == "cpu" else F.linear

    @property
    def dtype(self) -> torch.dtype:
        return self.model.model.embed_tokens.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.model.model.embed_tokens.weight.device

    def allocate(self, batch: int, max_len: int) -> StaticKVCache:
        return StaticKVCache.allocate(self.num_layers, batch, self.num_kv_heads, max_len, self.head_dim,
                                      self.dtype, self.device)

    def __call__(self, tokens: torch.Tensor, slots: torch.Tensor, cache: StaticKVCache,
                 last_only: bool = True, visible: int | None = None) -> torch.Tensor:
        """Logits for `tokens` (batch, n) written at cache `slots` (n,); float32, last position only
        unless last_only is False. `visible`: the slots before it hold everything the queries may see (the
        host knows it when it knows the slots), so attention reads those alone, not the whole cache;
        None (a captured step, whose slot lives on the device): the whole cache, under the mask."""
        hidden = self.model.model.embed_tokens(tokens)
        cos, sin = self._rotary(cache.positions(slots), hidden.dtype)
        mask = cache.attention_mask(slots, visible)
        for index, layer in enumerate(self.layers):
            hidden = hidden + self._attention(layer.self_attn, layer.input_layernorm(hidden), cos, sin, mask,
                                              cache, index, slots, visible)
            hidden = hidden + self._mlp(layer.mlp, layer.post_attention_layernorm(hidden))
        if last_only:
            hidden = hidden[:, -1:]
        return self._project(self.model.lm_head, self.model.model.norm(hidden)).float()

    def _rotary(self, positions: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        freqs = positions[..., None].float() * self.inv_freq.float()
        angles = torch.cat((freqs, freqs), dim=-1)
        return ((angles.cos() * self.rope_scale).to(dtype)[:, None], (angles.sin() * self.rope_scale).to(dtype)[:, None])

    def _attention(self, attn, x, cos, sin, mask, cache: StaticKVCache, layer: int, slots,
                   visible: int | None) -> torch.Tensor:
        batch, n, _ = x.shape
        q = self._project(attn.q_proj, x).view(batch, n, -1, self.head_dim)
        k = self._project(attn.k_proj, x).view(batch, n, -1, self.head_dim)
        if hasattr(attn, "q_norm"):  # Qwen3 normalises each head's query and key; Qwen2 does not
            q, k = attn.q_norm(q), attn.k_norm(k)
        v = self._project(attn.v_proj, x).view(batch, n, -1, self.head_dim).transpose(1, 2)
        q = _rotate(q.transpose(1, 2), cos, sin)
        k = _rotate(k.transpose(1, 2), cos, sin)
        cache.write(layer, slots, k, v)
        keys, values = cache.keys[layer][:, :, :visible], cache.values[layer][:, :, :visible]
        out = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask,
                                             scale=self.scaling, enable_gqa=self.num_heads != self.num_kv_heads)
        return self._project(attn.o_proj, out.transpose(1, 2).reshape(batch, n, -1))

    def _mlp(self, mlp, x: torch.Tensor) -> torch.Tensor:
        gate, up = self._project(mlp.gate_proj, x), self._project(mlp.up_proj, x)
        return self._project(mlp.down_proj, mlp.act_fn(gate) * up)

    def _project(self, linear: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x, linear.weight, linear.bias)


# A decode step multiplies a few rows by each weight. On a 2-core AMD EPYC (torch's CPU build, MKL),
# F.linear with 2 or 3 rows took 2 to 3 times as long as with one - longer than with 4 - so a batch of
# three candidates cost three single rows; the weight-major product W @ x.T took about one row's time
# up to 4 rows (docs/benchmarks.md, the decode engine on the CPU). One row and prefill keep F.linear.
_FEW_ROWS = 8


def _weight_major_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    rows = x.numel() // x.shape[-1]
    if rows == 1 or rows > _FEW_ROWS:
        return F.linear(x, weight, bias)
    # contiguous: strided queries, keys and values send attention down its general path, which copies
    # the keys and values out for every head
    out = (weight @ x.reshape(rows, -1).t()).t().contiguous()
    if bias is not None:
        out = out + bias
    return out.reshape(*x.shape[:-1], weight.shape[0])


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin
