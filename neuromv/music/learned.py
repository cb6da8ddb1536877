"""Learned features: an autoencoder over log-mel context windows centred on each video frame.

The 2017 paper (section 3.1) takes the bottleneck of an autoencoder trained on songs' spectra as the visuals'
input. Here the input of frame i is a window of :data:`CONTEXT` log-mel frames (:data:`MELS` bins, 20 ms apart,
0.19 s in all) centred exactly on ``t = i / fps``, in dB below the song's loudest bin, standardised with the training
set's statistics; the bottleneck is K numbers (default 10). ``neuromv train-features`` trains a model; one trained by
``scripts/train_features.py`` on free music from Debian's packages ships in the package (``learned``). A model's
codes serve as z (``--features learned``: :func:`learned_latents`) and, scaled to [0, 1] per song, as the feature
bank's ``learned.0`` ... ``learned.K-1`` for presets (:func:`bank_columns`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..errors import ModelError, NeuromvError, OptionError
from ..io.audio import Audio, AudioStream, as_fps, frame_count, load_audio
from ..io.files import write_atomically
from ..music.bank import RATE, grid_centres, mono, scale
from ..music.mel import mel_filterbank, smooth

log = logging.getLogger("neuromv")

FORMAT = "neuromv-features/1"
#: The model shipped with neuromv (``--features learned``).
SHIPPED = resources.files(__package__) / "models" / "features.pt"
#: Analysis: FFT size and hop (samples at :data:`neuromv.bank.RATE`), mel bins, frames of context, dB floor.
N_FFT, HOP, MELS, CONTEXT, FLOOR_DB = 1024, 441, 40, 8, 80.0
#: Frames per second at which training windows are taken from each song.
TRAIN_FPS = 10
#: Audio files a folder given to training is searched for.
AUDIO_SUFFIXES = (".mp3", ".ogg", ".oga", ".opus", ".flac", ".wav", ".m4a", ".aac", ".aiff", ".aif", ".wma")
#: Seconds for a code to fall back after a rise, as z (the mel latents' release).
RELEASE = 0.25


@dataclass(frozen=True)
class FeatureConfig:
    """An autoencoder's shape: ``dims`` (K, the bottleneck), ``widths`` of the encoder's hidden layers (the decoder
    mirrors them), and the input window (``mels`` x ``context``)."""

    dims: int = 10
    widths: tuple[int, ...] = (256, 64)
    mels: int = MELS
    context: int = CONTEXT

    def __post_init__(self) -> None:
        if not (isinstance(self.dims, int) and not isinstance(self.dims, bool) and 1 <= self.dims <= 512):
            raise OptionError(f"dims={self.dims!r} must be a whole number of learned features from 1 to 512")
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))

    @property
    def inputs(self) -> int:
        return self.mels * self.context


class Autoencoder(nn.Module):
    """``encode`` a standardised window [B, inputs] to its K codes; ``forward`` reconstructs the window."""

    mean: torch.Tensor  # buffers: the training windows' mean and spread, [inputs]
    std: torch.Tensor

    def __init__(self, config: FeatureConfig):
        super().__init__()
        self.config = config
        sizes = (config.inputs, *config.widths, config.dims)
        self.encoder = _stack(sizes)
        self.decoder = _stack(sizes[::-1])
        self.register_buffer("mean", torch.zeros(config.inputs))
        self.register_buffer("std", torch.ones(config.inputs))

    def encode(self, windows: torch.Tensor) -> torch.Tensor:
        return self.encoder((windows - self.mean) / self.std)

    def forward(self, standardised: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(standardised))


def _stack(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers through ``sizes`` with tanh between them (none after the last: a linear bottleneck/output)."""
    layers: list[nn.Module] = []
    for index, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if index < len(sizes) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


# --- the input windows ------------------------------------------------------------------------------------------

def windows(audio: Audio | AudioStream, fps: Fraction | float | str, config: FeatureConfig = FeatureConfig()
            ) -> np.ndarray:
    """float32 [frames, mels * context]: frame i's log-mel window, centred on sample ``i * rate / fps`` exactly,
    ``frames == ceil(duration * fps)`` as for the mel latents. In dB below the song's loudest bin, floored at
    :data:`FLOOR_DB`."""
    fps = as_fps(fps)
    signal = mono(audio)
    frames = frame_count(audio.n_samples, audio.sample_rate, fps)
    reach = (config.context - 1) * HOP // 2 + N_FFT  # from a frame's centre to its context's farthest sample
    padded = np.concatenate([np.zeros(reach, np.float32), signal, np.zeros(reach + 1, np.float32)])
    del signal
    basis = torch.from_numpy(mel_filterbank(RATE, N_FFT, config.mels, 30.0, RATE / 2).T.copy())
    hann = np.hanning(N_FFT + 2)[1:-1].astype(np.float32)
    # sub-frame j of frame i starts at centre_i + (j - (context - 1) / 2) * hop - n_fft / 2
    offsets = np.round((np.arange(config.context) - (config.context - 1) / 2) * HOP).astype(np.int64) - N_FFT // 2
    centres = np.minimum(grid_centres(frames, RATE, fps), padded.shape[0] - 2 * reach) + reach
    out = np.empty((frames, config.context, config.mels), np.float32)
    block = max(1, 4096 // config.context)
    taps = np.arange(N_FFT)
    for first in range(0, frames, block):
        starts = (centres[first:first + block, None] + offsets[None, :]).reshape(-1)  # [b * context]
        power = np.abs(np.fft.rfft(padded[starts[:, None] + taps[None, :]] * hann, axis=1)) ** 2
        mel = torch.from_numpy(power.astype(np.float32)).mm(basis).numpy()
        out[first:first + block] = mel.reshape(-1, config.context, config.mels)
    np.maximum(out, 1e-10, out=out)
    db = 10.0 * np.log10(out)
    top = float(db.max()) if db.size else 0.0
    db = np.maximum(db - top, -FLOOR_DB)
    return db.reshape(frames, -1).astype(np.float32)


# --- checkpoints ------------------------------------------------------------------------------------------------

def save(model: Autoencoder, path: str | Path, **meta: Any) -> Path:
    """Write the model with its config, its input normalisation and ``meta`` to ``path`` (atomically)."""
    blob = {"format": FORMAT, "config": asdict(model.config),
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "meta": meta}
    return write_atomically(path, lambda temporary: torch.save(blob, temporary))


def load(source: str | Path) -> tuple[Autoencoder, dict[str, Any]]:
    """A features model: ``"learned"`` (the one shipped) or a file written by :func:`save` / ``train-features``."""
    if str(source) == "learned":
        with resources.as_file(SHIPPED) as shipped:
            return load(shipped)
    path = Path(source)
    if not path.is_file():
        raise ModelError(f"features model {str(source)!r} does not exist (features: mel, learned, or a .pt file "
                         "written by neuromv train-features)")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(f"features model {str(source)!r} is not a neuromv features model "
                         f"({type(exc).__name__})") from None
    kind = blob.get("format") if isinstance(blob, dict) else None
    if kind != FORMAT:
        hint = "; it is a CPPN checkpoint: give it to --model" if kind == "neuromv-cppn/1" else ""
        raise ModelError(f"features model {str(source)!r} is not a neuromv features model (expected format "
                         f"{FORMAT}){hint}")
    config = FeatureConfig(**{**blob["config"], "widths": tuple(blob["config"]["widths"])})
    model = Autoencoder(config)
    model.load_state_dict(blob["state_dict"])
    return model.eval(), dict(blob.get("meta") or {})


# --- using a model ----------------------------------------------------------------------------------------------

@torch.inference_mode()
def codes(model: Autoencoder, audio: Audio | AudioStream, fps: Fraction | float | str) -> np.ndarray:
    """float32 [frames, K]: the model's bottleneck for every video frame."""
    x = windows(audio, fps, model.config)
    out = [model.encode(torch.from_numpy(x[i:i + 4096])) for i in range(0, x.shape[0], 4096)]
    return torch.cat(out).numpy() if out else np.zeros((0, model.config.dims), np.float32)


def learned_latents(model: Autoencoder, audio: Audio | AudioStream, fps: Fraction | float | str) -> np.ndarray:
    """float32 [frames, K] in (-1, 1), the latents z: each code standardised over the song, squashed, and smoothed
    with the mel latents' fast attack and slow release."""
    c = codes(model, audio, fps).astype(np.float64)
    c = (c - c.mean(axis=0)) / np.maximum(c.std(axis=0), 1e-6)
    return smooth(np.tanh(c / 2.0).astype(np.float32), fps, RELEASE)


def names(dims: int) -> tuple[str, ...]:
    """The bank's names for a model's codes."""
    return tuple(f"learned.{index}" for index in range(dims))


def bank_columns(model: Autoencoder, audio: Audio | AudioStream, fps: Fraction | float | str) -> np.ndarray:
    """float32 [frames, K] in [0, 1]: each code scaled per song between its robust percentiles (as the bank's
    features are), for presets."""
    c = codes(model, audio, fps)
    return np.stack([scale(c[:, index])[0] for index in range(c.shape[1])], axis=1) if c.size else c


# --- training ---------------------------------------------------------------------------------------------------

@dataclass
class TrainResult:
    """What training did: the model's path, the songs used and held out, the losses per epoch, seconds."""

    path: Path
    songs: list[str]
    held_out: list[str]
    skipped: list[str]
    train_loss: list[float] = field(default_factory=list)
    held_out_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0


def find_songs(sources: Sequence[str | Path]) -> list[Path]:
    """The audio files named, and those in the folders named (searched recursively), sorted, each once."""
    found: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            raise OptionError(f"{str(source)!r} is neither an audio file nor a folder")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique


def train(sources: Sequence[str | Path], output: str | Path, *, dims: int = 10, epochs: int = 40, seed: int = 0,
          held_out: float = 0.15, max_seconds: float | None = 600.0, progress: bool = True) -> TrainResult:
    """Train an autoencoder on the songs in ``sources`` (files and folders) and save it to ``output``.

    Every song that decodes is used (one line for each that does not, and why); whole songs, ``held_out`` of them
    (at least one), are held out for the held-out loss. Each song gives a window every 1/10 s (the first
    ``max_seconds`` of it). The same sources and ``seed`` give the same model on the same machine.
    """
    config = FeatureConfig(dims=dims)
    if not (isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 1):
        raise OptionError(f"epochs={epochs!r} must be a whole number >= 1")
    output = Path(output)
    if not output.parent.is_dir():
        raise OptionError(f"output folder {str(output.parent)!r} does not exist")
    started = time.perf_counter()
    data, used, skipped = _song_windows(find_songs(sources), config, max_seconds, progress)
    if not used:
        raise OptionError(f"no decodable audio in {', '.join(map(str, sources))}")
    if len(used) < 2:
        raise OptionError(f"training needs at least 2 songs (whole songs are held out); found {len(used)}")
    order = np.random.default_rng(seed).permutation(len(used))
    count = min(len(used) - 1, max(1, round(held_out * len(used))))
    hold = sorted(order[:count].tolist())
    keep = [i for i in range(len(used)) if i not in hold]
    x_train = torch.from_numpy(np.concatenate([data[i] for i in keep]))
    x_held = torch.from_numpy(np.concatenate([data[i] for i in hold]))
    torch.manual_seed(seed)
    model = Autoencoder(config)
    model.mean.copy_(x_train.mean(dim=0))
    model.std.copy_(x_train.std(dim=0).clamp_min(1.0))  # dB: a bin that never moves is not blown up
    z_train, z_held = (x_train - model.mean) / model.std, (x_held - model.mean) / model.std
    result = TrainResult(output, used, [used[i] for i in hold], skipped)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs)
    generator = torch.Generator().manual_seed(seed)
    bar = tqdm(range(epochs), desc="training", unit="epoch", disable=not progress)
    for _ in bar:
        result.train_loss.append(_epoch(model, z_train, optimiser, generator))
        schedule.step()
        result.held_out_loss.append(reconstruction_error(model, z_held))
        bar.set_postfix(train=f"{result.train_loss[-1]:.4f}", held_out=f"{result.held_out_loss[-1]:.4f}")
    result.seconds = time.perf_counter() - started
    save(model.eval(), output, songs=[Path(s).name for s in used], held_out=[Path(s).name for s in result.held_out],
         seed=seed, epochs=epochs, train_loss=result.train_loss[-1], held_out_loss=result.held_out_loss[-1],
         seconds=round(result.seconds, 1))
    return result


def _song_windows(paths: Sequence[Path], config: FeatureConfig, max_seconds: float | None,
                  progress: bool) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Each song's training windows, the songs used, and a line for each song that did not decode (and why)."""
    data: list[np.ndarray] = []
    used, skipped = [], []
    for path in tqdm(paths, desc="decoding", unit="song", disable=not progress, leave=False):
        try:
            audio = load_audio(path, duration=max_seconds)
        except NeuromvError as exc:
            log.warning("skipped %s: %s", path, exc)
            skipped.append(f"{path}: {exc}")
            continue
        data.append(windows(audio, TRAIN_FPS, config))
        used.append(str(path))
    return data, used, skipped


def _epoch(model: Autoencoder, z_train: torch.Tensor, optimiser: torch.optim.Optimizer,
           generator: torch.Generator, batch: int = 256) -> float:
    """One pass over the standardised training windows in a shuffled order; returns the mean training loss."""
    model.train()
    total = 0.0
    for index in torch.randperm(z_train.shape[0], generator=generator).split(batch):
        loss = torch.mean((model(z_train[index]) - z_train[index]) ** 2)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        total += float(loss.detach()) * index.shape[0]
    return total / z_train.shape[0]


@torch.inference_mode()
def reconstruction_error(model: Autoencoder, standardised: torch.Tensor) -> float:
    """Mean squared error of the model's reconstruction of standardised windows."""
    was = model.training
    model.eval()
    error = sum(float(torch.sum((model(part) - part) ** 2)) for part in standardised.split(8192))
    model.train(was)
    return error / max(1, standardised.numel())


def pca_error(train_windows: torch.Tensor, test_windows: torch.Tensor, dims: int) -> float:
    """The same error for PCA with ``dims`` components fitted on ``train_windows`` (standardised), for comparison."""
    mean = train_windows.mean(dim=0)
    _, _, v = torch.linalg.svd(train_windows - mean, full_matrices=False)
    basis = v[:dims].T  # [inputs, dims]
    centred = test_windows - mean
    return float(torch.mean((centred @ basis @ basis.T - centred) ** 2))
