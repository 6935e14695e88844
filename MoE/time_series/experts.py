"""One expert: a patch transformer over its component of the window, with a Q-Former on top.

Channels are handled independently (as in PatchTST): each channel's window is cut into patches of
two features per step, the normalised series and the expert's component of it, so the expert sees
its specialty without losing the level it must forecast. A linear path from the window straight to
the horizon (as in DLinear) runs beside the transformer; the transformer learns what it misses.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ExpertConfig
from .qformer import QFormer


class Expert(nn.Module):
    def __init__(self, config: ExpertConfig, seq_len: int, horizon: int):
        super().__init__()
        if seq_len < config.patch_len:
            raise ValueError(f"expert '{config.name}': seq_len {seq_len} is shorter than patch_len {config.patch_len}")
        self.config = config
        self.num_patches = (seq_len - config.patch_len) // config.stride + 1
        self.embed = nn.Linear(2 * config.patch_len, config.d_model)
        self.position = nn.Parameter(torch.randn(self.num_patches, config.d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(config.d_model, config.n_heads, config.d_ff, config.dropout,
                                           batch_first=True, norm_first=True, activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, config.n_layers, enable_nested_tensor=False) \
            if config.n_layers else nn.Identity()
        self.qformer = QFormer(config.num_questions, config.d_model, config.n_heads, config.d_ff, config.dropout)
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(config.num_questions * config.d_model, horizon))
        self.linear = nn.Linear(2 * seq_len, horizon)

    def forward(self, series: torch.Tensor, component: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(batch, seq_len, channels) twice -> proposal (batch, horizon, channels), questions (batch, channels, Q, d)."""
        batch, seq_len, channels = series.shape
        views = torch.stack([series, component], dim=-1)                      # (B, L, C, 2)
        views = views.permute(0, 2, 1, 3).reshape(batch * channels, seq_len, 2)
        patches = views.unfold(1, self.config.patch_len, self.config.stride)   # (BC, N, 2, P)
        tokens = self.embed(patches.flatten(2)) + self.position
        questions = self.qformer(self.encoder(tokens))                         # (BC, Q, d)
        forecast = self.head(questions.flatten(1)) + self.linear(views.flatten(1))
        proposal = forecast.reshape(batch, channels, -1).transpose(1, 2)
        return proposal, questions.reshape(batch, channels, *questions.shape[1:])
