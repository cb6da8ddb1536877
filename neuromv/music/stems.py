"""Separating a song into stems, behind one interface: mix -> {stem name: samples}.

Backends:
- ``spleeter``: the original NeuroMV choice (2, 4 or 5 stems). Spleeter 2.4 pins Python < 3.12, TensorFlow 2.12 and
  numpy < 2, so it usually lives in its own environment: neuromv runs :mod:`neuromv.spleeter_driver` with that
  environment's Python (``spleeter_python=``, ``NEUROMV_SPLEETER_PYTHON``, or the interpreter of a ``spleeter``
  command on PATH), or in process when Spleeter is importable here. Models come from its ``MODEL_PATH``.
- ``demucs``: ``pip install "neuromv[demucs]"``; in process on the render device. 2 stems = vocals and the rest,
  4 stems its native four; 5 stems are not offered.
- ``hpss``: harmonic/percussive separation by median filtering (:mod:`.hpss`); no model, works offline everywhere
  (2 stems).
- ``auto``: demucs, then spleeter, then hpss: the first that can run here.

Separations are cached by the audio's content hash, the excerpt, the backend and the model, so rendering again with
other visuals does not separate again. A cache entry is written to a temporary folder and renamed into place only
when complete, so a stale or partial result is never reused.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import NeuromvError, OptionError
from ..io.audio import load_audio, to_mono
from ..io.files import Partial, cache_root, content_hash
from .hpss import harmonic_share

log = logging.getLogger("neuromv")

SEPARATORS = ("auto", "spleeter", "demucs", "hpss")
#: Stem names follow Spleeter's.
STEM_NAMES = {2: ("vocals", "accompaniment"), 4: ("vocals", "drums", "bass", "other"),
              5: ("vocals", "drums", "bass", "piano", "other")}
HPSS_NAMES = ("harmonic", "percussive")
SEPARATION_RATE = 44100
#: The ``hpss`` split's window, samples (46 ms at 44.1 kHz).
HPSS_FFT = 2048
SPLEETER_ENV = "NEUROMV_SPLEETER_PYTHON"


class SeparatorError(NeuromvError):
    """A separator is not installed, has no model here, or cannot give the stems asked for."""


@dataclass(frozen=True)
class Separated:
    """Stems of one excerpt: ``stems`` maps each name to float32 [channels, n] at ``sample_rate``; ``backend`` is
    the separator that made them and ``cached`` whether they came from the cache."""

    stems: dict[str, np.ndarray]
    sample_rate: int
    backend: str
    cached: bool = False


def stem_names(stems: int, separator: str) -> tuple[str, ...]:
    """The stem names ``separator`` gives for ``stems`` stems, or an :class:`OptionError` saying what it offers."""
    if separator not in SEPARATORS:
        raise OptionError(f"separator={separator!r} is not one of {list(SEPARATORS)}")
    if stems not in STEM_NAMES:
        raise OptionError(f"stems={stems!r} must be 2, 4 or 5")
    if separator == "hpss":
        if stems != 2:
            raise OptionError(f"stems={stems}: separator 'hpss' offers 2 stems ({', '.join(HPSS_NAMES)}); "
                              "use --separator spleeter or demucs for 4 or 5")
        return HPSS_NAMES
    if separator == "demucs" and stems == 5:
        raise OptionError("stems=5: separator 'demucs' offers 2 or 4 stems (no piano stem); "
                          "use --separator spleeter for 5")
    return STEM_NAMES[stems]


def decode_mix(path: Path, start: float, duration: float | None, rate: int = SEPARATION_RATE) -> np.ndarray:
    """The excerpt as float32 [2, n] at ``rate``: decoded by :func:`load_audio`, as for the latents and the sound
    track, then resampled (soxr, high quality) and made stereo (mono doubled; more channels mixed down to mono
    first)."""
    import soxr

    song = load_audio(path, start=start, duration=duration)
    mix = song.samples if song.samples.shape[0] == 2 else np.repeat(to_mono(song.samples)[None], 2, axis=0)
    if song.sample_rate != rate:
        mix = soxr.resample(mix.T, song.sample_rate, rate, quality="HQ").T
    return np.ascontiguousarray(mix, dtype=np.float32)


# --- backends: mix float32 [2, n] at 44.1 kHz -> {name: float32 [channels, n]} -------------------------------

def _hpss(mix: np.ndarray, stems: int, **_: object) -> dict[str, np.ndarray]:
    """The median-filtering split (:mod:`.hpss`) of the mix's spectrogram (:data:`HPSS_FFT` windows, a quarter of
    one apart; medians over 31 of them and 31 bins), each part resynthesised by overlap-add."""
    from scipy.signal import istft, stft

    mono = mix.mean(axis=0)
    _, _, spectrum = stft(mono, nperseg=HPSS_FFT, noverlap=HPSS_FFT - HPSS_FFT // 4, window="hann")  # [bins, frames]
    share = harmonic_share(np.abs(spectrum).T, 31, 31).T
    parts = {}
    for name, mask in (("harmonic", share), ("percussive", 1.0 - share)):
        _, signal = istft(spectrum * mask, nperseg=HPSS_FFT, noverlap=HPSS_FFT - HPSS_FFT // 4, window="hann")
        parts[name] = signal[None, :mono.shape[0]].astype(np.float32)
    return parts


def _demucs(mix: np.ndarray, stems: int, *, device: str = "cpu", demucs_model: str = "htdemucs",
            demucs_repo: Path | None = None, progress: bool = False, **_: object) -> dict[str, np.ndarray]:
    try:
        import torch
        from demucs.apply import apply_model
        from demucs.pretrained import get_model
    except ImportError:
        raise SeparatorError('separator \'demucs\' is not installed; run: pip install "neuromv[demucs]"') from None
    try:
        model = get_model(demucs_model, repo=Path(demucs_repo) if demucs_repo else None)
    except Exception as exc:  # demucs raises many kinds: unknown name, no network, bad repo
        where = f" in {str(demucs_repo)!r}" if demucs_repo else " (downloaded on first use; needs the network)"
        raise SeparatorError(f"Demucs model {demucs_model!r} is not available{where}: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    if int(model.samplerate) != SEPARATION_RATE:
        raise SeparatorError(f"Demucs model {demucs_model!r} runs at {model.samplerate} Hz; neuromv separates at "
                             f"{SEPARATION_RATE} Hz")
    tensor = torch.from_numpy(mix)[None]  # [1, 2, n]
    with torch.inference_mode():
        out = apply_model(model, tensor, device=device, progress=progress, split=True)[0]  # [sources, 2, n]
    parts = {name: out[i].cpu().numpy().astype(np.float32) for i, name in enumerate(model.sources)}
    if stems == 2:
        vocals = parts.pop("vocals")
        return {"vocals": vocals, "accompaniment": np.asarray(np.sum(list(parts.values()), axis=0, dtype=np.float32))}
    return {name: parts[name] for name in STEM_NAMES[4]}


def find_spleeter_python(option: str | Path | None = None) -> str | None:
    """The Python of Spleeter's own environment: the option, ``NEUROMV_SPLEETER_PYTHON``, or the interpreter named
    in the ``#!`` line of a ``spleeter`` command on PATH."""
    if option or os.environ.get(SPLEETER_ENV):
        return str(option or os.environ[SPLEETER_ENV])
    command = shutil.which("spleeter")
    if command is None:
        return None
    try:
        first = Path(command).read_text(errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return None
    return first[2:].strip() if first.startswith("#!") and "python" in first else None


def _spleeter(mix: np.ndarray, stems: int, *, spleeter_config: str | None = None,
              spleeter_python: str | None = None, **_: object) -> dict[str, np.ndarray]:
    config = spleeter_config or f"spleeter:{stems}stems"
    python = find_spleeter_python(spleeter_python)
    if python is None:
        if importlib.util.find_spec("spleeter") is None:
            raise SeparatorError("separator 'spleeter' is not installed here: install it in its own environment "
                                 "(python3.11 -m venv spleeter-env && spleeter-env/bin/pip install spleeter) and "
                                 f"set {SPLEETER_ENV}=spleeter-env/bin/python")
        from ..music import spleeter_driver

        try:
            parts = spleeter_driver.separate(config, mix.T.copy())
        except spleeter_driver.ModelMissing as exc:
            raise SeparatorError(str(exc)) from None
        return {name: part.T.copy() for name, part in parts.items()}
    with tempfile.TemporaryDirectory(prefix="neuromv-spleeter-") as tmp:
        np.save(Path(tmp) / "mix.npy", mix.T.copy())
        job = json.dumps({"config": config, "input": str(Path(tmp) / "mix.npy"), "output": tmp})
        driver = Path(__file__).with_name("spleeter_driver.py")
        try:
            done = subprocess.run([python, str(driver), job], capture_output=True, text=True)
        except OSError as exc:
            raise SeparatorError(f"cannot run Spleeter's Python {python!r}: {exc}") from None
        if done.returncode != 0:
            said = [line for line in done.stderr.splitlines() if line.startswith("neuromv-spleeter: ")]
            reason = said[-1].split(": ", 1)[1] if said else (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise SeparatorError(reason if said else f"Spleeter failed ({python}): {reason}")
        names = [p.stem for p in Path(tmp).glob("*.npy") if p.stem != "mix"]
        return {name: np.load(Path(tmp) / f"{name}.npy").T.copy() for name in names}


def _spleeter_available(spleeter_python: str | None) -> bool:
    return find_spleeter_python(spleeter_python) is not None or importlib.util.find_spec("spleeter") is not None


#: Each backend: (mix float32 [channels, n] at SEPARATION_RATE, stems, **options) -> {stem name: samples}.
BACKENDS: dict[str, Callable[..., dict[str, np.ndarray]]] = {"spleeter": _spleeter, "demucs": _demucs, "hpss": _hpss}


# --- cache ------------------------------------------------------------------------------------------------

def default_cache_dir() -> Path:
    """The separations' cache: ``stems`` in :func:`files.cache_root`."""
    return cache_root() / "stems"


def _cache_key(path: Path, start: float, duration: float | None, backend: str, model: str, stems: int) -> str:
    spec = json.dumps([content_hash(path), round(start, 6), duration and round(duration, 6), backend, model, stems,
                       "mix: neuromv's decode"])  # separations of FFmpeg's decode (before 0.2) are not reused
    return hashlib.sha256(spec.encode()).hexdigest()[:32]


def _cache_read(folder: Path, names: tuple[str, ...] | None) -> dict[str, np.ndarray] | None:
    try:
        meta = json.loads((folder / "complete.json").read_text())
        found = tuple(meta["stems"])
        if names is not None and set(found) != set(names):
            return None
        return {name: np.load(folder / f"{name}.npy") for name in found}
    except (OSError, ValueError, KeyError):
        return None


def _cache_write(folder: Path, stems: dict[str, np.ndarray]) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    with Partial(folder, folder=True) as partial:
        for name, samples in stems.items():
            np.save(partial.temporary / f"{name}.npy", samples)
        (partial.temporary / "complete.json").write_text(json.dumps({"stems": list(stems)}))  # last: marks it whole


# --- the interface ------------------------------------------------------------------------------------------

def separate(path: str | Path, *, stems: int = 2, separator: str = "auto", start: float = 0.0,
             duration: float | None = None, device: str = "cpu", cache: bool = True,
             cache_dir: str | Path | None = None, spleeter_python: str | None = None,
             spleeter_config: str | None = None, demucs_model: str = "htdemucs",
             demucs_repo: str | Path | None = None, progress: bool = False) -> Separated:
    """Split the excerpt of ``path`` into ``stems`` stems with ``separator``.

    Returns :class:`Separated` with float32 [channels, n] per stem at 44.1 kHz. ``auto`` tries demucs, then
    spleeter, then hpss, and falls through when a backend cannot run here (its model missing offline, say).
    """
    path = Path(path)
    stem_names(stems, separator)  # validates the pair
    order = ["demucs", "spleeter", "hpss"] if separator == "auto" else [separator]
    if separator == "auto":
        order = [b for b in order if _usable(b, stems, spleeter_python)]
    mix: np.ndarray | None = None
    reasons = []
    for backend in order:
        model = {"demucs": f"{demucs_model}@{demucs_repo or 'hub'}",
                 "spleeter": spleeter_config or f"spleeter:{stems}stems", "hpss": "neuromv"}[backend]
        want = stems if backend != "hpss" else 2
        folder = Path(cache_dir or default_cache_dir()) / _cache_key(path, start, duration, backend, model, want)
        if cache and (hit := _cache_read(folder, None)) is not None:
            return Separated(hit, SEPARATION_RATE, backend, cached=True)
        if mix is None:
            mix = decode_mix(path, start, duration)
        try:
            parts = BACKENDS[backend](mix, want, device=device, demucs_model=demucs_model, demucs_repo=demucs_repo,
                                      spleeter_config=spleeter_config, spleeter_python=spleeter_python,
                                      progress=progress)
        except SeparatorError as exc:
            if separator != "auto":
                raise
            reasons.append(f"{backend}: {exc}")
            log.info("separator %s cannot run here (%s); trying the next", backend, exc)
            continue
        known = [name for name in (*STEM_NAMES.get(want, ()), *HPSS_NAMES) if name in parts]
        parts = {name: _fit_length(parts[name], mix.shape[1]) for name in known + sorted(set(parts) - set(known))}
        if cache:
            _cache_write(folder, parts)
        return Separated(parts, SEPARATION_RATE, backend)
    raise SeparatorError("no separator could run: " + "; ".join(reasons))


def _usable(backend: str, stems: int, spleeter_python: str | None) -> bool:
    if backend == "hpss":
        return stems == 2
    if backend == "demucs":
        return stems in (2, 4) and importlib.util.find_spec("demucs") is not None
    return _spleeter_available(spleeter_python)


def _fit_length(part: np.ndarray, n: int) -> np.ndarray:
    """[channels, m] -> [channels, n]: trimmed or zero-padded (separators may round the length)."""
    part = np.asarray(part, dtype=np.float32)
    if part.ndim == 1:
        part = part[None]
    if part.shape[1] >= n:
        return np.ascontiguousarray(part[:, :n])
    return np.pad(part, ((0, 0), (0, n - part.shape[1])))
