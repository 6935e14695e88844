"""Run by torchrun in test_ddp.py: two CPU processes (gloo) fine-tune one model together."""

import sys

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler

from MoE.time_series import (RouterConfig, TimeSeriesMoE, TimeSeriesWindowDataset, _generate_synthetic_series,
                             default_experts, fine_tune)

dist.init_process_group("gloo")
rank = dist.get_rank()
torch.manual_seed(0)
series = _generate_synthetic_series(300, 2, seed=1)
data = TimeSeriesWindowDataset(series, 48, 12)
model = TimeSeriesMoE(default_experts(d_model=16, n_heads=2, n_layers=1, d_ff=32, patch_len=8, stride=4,
                                      num_questions=4), RouterConfig(precision="fp32"), seq_len=48, horizon=12,
                      input_dim=2)
loader = DataLoader(data, batch_size=16, sampler=DistributedSampler(data, shuffle=True, seed=0))
val = DataLoader(data, batch_size=64, sampler=DistributedSampler(data, shuffle=False))
result = fine_tune(model, loader, epochs=2, val_loader=val, checkpoint_path=sys.argv[1], progress=False)
checksum = sum(float(p.double().sum()) for p in model.parameters())
with open(f"{sys.argv[2]}.{rank}", "w") as f:
    f.write(f"{checksum:.10f} {result.history[-1]['val_loss']:.10f} {len(loader)}")
dist.destroy_process_group()
