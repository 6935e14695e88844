"""A Q-Former: learned question tokens that cross-attend over an encoded window.

Each of the `num_questions` tokens asks the encoded window for specific temporal evidence; the
answers (one embedding per question) are what the expert forecasts from and what it reports.
"""

from __future__ import annotations

import torch
from torch import nn


class QFormer(nn.Module):
    def __init__(self, num_questions: int, d_model: int, n_heads: int, d_ff: int, dropout: float):
        super().__init__()
        self.questions = nn.Parameter(torch.randn(num_questions, d_model) * 0.02)
        self.cross_attention = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.norm_q, self.norm_kv, self.norm_ff = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.feed_forward = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Dropout(dropout),
                                          nn.Linear(d_ff, d_model))

    def forward(self, encoded: torch.Tensor) -> torch.Tensor:
        """(batch, tokens, d_model) -> (batch, num_questions, d_model)."""
        queries = self.questions.unsqueeze(0).expand(encoded.shape[0], -1, -1)
        memory = self.norm_kv(encoded)
        answers, _ = self.cross_attention(self.norm_q(queries), memory, memory, need_weights=False)
        answers = queries + answers
        return answers + self.feed_forward(self.norm_ff(answers))
