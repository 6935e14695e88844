import socket
import subprocess
import sys
from pathlib import Path


def test_two_processes_train_one_model(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    worker = Path(__file__).with_name("ddp_worker.py")
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}",
         "--master_addr=127.0.0.1", str(worker), str(tmp_path / "ckpt.pt"), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[3])
    assert result.returncode == 0, result.stderr[-2000:]
    rank0, rank1 = ((tmp_path / f"out.{r}").read_text().split() for r in (0, 1))
    assert rank0[:2] == rank1[:2]              # same weights and the same (all-reduced) validation loss
    assert int(rank0[2]) == 8                  # each rank saw half of the 241 windows, in batches of 16
    assert (tmp_path / "ckpt.pt").is_file()    # written by rank 0
