"""``render()``: the one entry point that the CLI, the notebook and the examples call.

song (+ cover) -> exact-grid mel latents -> CPPN (random, fitted to the cover, or loaded) -> batched frames ->
MP4 with the song's audio.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from . import __version__, cppn
from .audio import Audio, as_fps, frame_count, open_audio
from .errors import OptionError
from .features import LatentConfig, mel_latents
from .fit import FitConfig, fit, load_image
from .render import (check_batch_size, check_threads, cpu_threads, frames, panel_frames, panel_grid, pick_device,
                     pick_precision)
from .stems import separate, stem_names
from .video import (DEFAULT_CRF, DEFAULT_PRESET, AudioTrack, VideoWriter, check_crf, check_output, pick_encoder,
                    pick_preset, pick_threads)

log = logging.getLogger("neuromv")

#: Long side of the video when no size is given, in pixels.
DEFAULT_SIDE = 512
MIN_SIDE, MAX_SIDE = 16, 8192

Size = tuple[int, int]


def parse_size(size: str | int | Sequence[int]) -> Size:
    """``"1280x720"``, ``512`` or ``(1280, 720)`` -> (width, height); both even, from 16 to 8192."""
    text = size if isinstance(size, str) else None
    try:
        if isinstance(size, str):
            match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*|\s*(\d+)\s*", size)
            if match is None:
                raise ValueError
            width, height = (int(match.group(3)),) * 2 if match.group(3) else (int(match.group(1)),
                                                                              int(match.group(2)))
        elif isinstance(size, int) and not isinstance(size, bool):
            width = height = size
        else:
            width, height = (int(v) for v in size)
    except (ValueError, TypeError):
        raise OptionError(f"size={size!r} must be WIDTHxHEIGHT in pixels, e.g. 512x512 or 1280x720") from None
    shown = text or f"{width}x{height}"
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise OptionError(f"size={shown} must be from {MIN_SIDE} to {MAX_SIDE} pixels on each side")
    if width % 2 or height % 2:
        raise OptionError(f"size={shown}: width and height must be even for H.264 (yuv420p); "
                          f"try {width + width % 2}x{height + height % 2}")
    return width, height


def size_for_aspect(aspect: float, side: int = DEFAULT_SIDE) -> Size:
    """(width, height) with ``width / height ~= aspect``, the long side ``side``, both even."""
    def even(value: float) -> int:
        return max(MIN_SIDE, 2 * round(value / 2))
    return (even(side), even(side / aspect)) if aspect >= 1 else (even(side * aspect), even(side))


def render(
    audio: str | Path,
    output: str | Path | None = None,
    *,
    image: str | Path | None = None,
    size: str | int | Sequence[int] | None = None,
    fps: float | str = 30,
    seed: int = 0,
    start: float = 0.0,
    duration: float | None = None,
    device: str | None = "auto",
    batch_size: int | None = None,
    threads: int | None = None,
    hidden: int | None = None,
    latent_dim: int | None = None,
    steps: int = FitConfig.steps,
    lr: float = FitConfig.lr,
    motion: float = FitConfig.motion,
    save_model: str | Path | None = None,
    model: str | Path | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    encoder: str = "auto",
    precision: str = "auto",
    stems: int | None = None,
    separator: str = "auto",
    layout: str | None = None,
    labels: bool = False,
    panels: str | None = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    spleeter_python: str | Path | None = None,
    spleeter_config: str | None = None,
    demucs_model: str = "htdemucs",
    demucs_repo: str | Path | None = None,
) -> Path:
    """Render a music video for ``audio`` and return the MP4's path.

    Parameters
    ----------
    audio : the song (mp3, wav, flac, ogg, m4a, opus, a video's audio track, ...).
    output : the MP4 to write; default: the song's path with ``.mp4``.
    image : a cover to fit the CPPN to first (JPEG, PNG, WebP, ...); without it the random network is used.
    size : frame size, ``"WxH"``; default 512 on the long side, with the cover's (or saved model's) aspect.
    fps : frames per second (24, 25, 29.97, 30, 60, ...); exactly one latent per frame.
    seed : seeds the network's initial weights and the fitting.
    start, duration : the excerpt to render, in seconds (default: the whole song).
    device : ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"`` or ``"mps"``.
    batch_size : frames per batch (default: chosen for the device; on a CPU the last few are smaller).
    threads : CPU threads for rendering, fitting and Demucs (default: torch's, one per core); give each of several
        renders running at once its share of the cores.
    hidden : hidden-layer width (default 32, or the saved model's).
    latent_dim : mel bins = latent size (default 64, or the saved model's).
    steps, lr : Adam steps and peak learning rate for fitting to ``image``.
    motion : fidelity vs motion when fitting: about the gray levels of change per frame the video keeps
        (0 = most faithful, nearly still; the default 3 keeps the cover recognisable and moving).
    save_model : write the (fitted) network with its config here.
    model : render from a network saved with ``save_model`` instead of building or fitting one.
    overwrite : replace an existing ``output``.
    quiet : no progress bars.
    crf, preset : x264 quality (0-51, lower is better) and speed preset (NVENC: the matching p1-p7 and -cq);
        ``preset="auto"``: ultrafast when rendering on the CPU (the encoder leaves the cores to the network),
        veryfast on a GPU.
    encoder : ``"auto"`` (NVENC when rendering on a CUDA GPU that has it, else libx264), ``"libx264"``,
        ``"h264_nvenc"``.
    precision : the hidden layers' dtype: ``"auto"`` (float32),
        ``"float32"``, ``"bfloat16"``, ``"float16"``.
    stems : split the song into 2, 4 or 5 stems and give each its own panel, side by side (``size`` is a
        panel's size); the mix stays the audio track. ``None``: one picture for the whole song.
    separator : ``"auto"`` (demucs, then spleeter, then hpss: the first that runs here), ``"spleeter"``,
        ``"demucs"``, ``"hpss"`` (built in: harmonic | percussive).
    layout : ``"row"`` (default for 2 stems) or ``"grid"`` (default for 4 and 5).
    labels : write each stem's name on its panel.
    panels : ``"shared"`` (one network for every panel: the fitted cover when there is one) or ``"own"`` (a
        network per panel, seeds ``seed``, ``seed + 1``, ...; fitted per panel with a cover). Default: shared with a
        cover, own without.
    cache, cache_dir : reuse separations (default folder ``~/.cache/neuromv/stems``, or ``NEUROMV_CACHE``).
    spleeter_python, spleeter_config : the Python of Spleeter's environment (default ``NEUROMV_SPLEETER_PYTHON``
        or a ``spleeter`` command on PATH) and a config other than ``spleeter:<stems>stems``.
    demucs_model, demucs_repo : the Demucs model name and a local folder of models.
    """
    # Check every option before any slow work.
    audio = Path(audio)
    fps_exact = as_fps(fps)
    if not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**63):
        raise OptionError(f"seed={seed!r} must be a whole number >= 0")
    frame_size = parse_size(size) if size is not None else None
    check_batch_size(batch_size)
    check_threads(threads)
    torch_device = pick_device(device)
    pick_precision(precision, torch_device)
    video_encoder = pick_encoder(encoder, torch_device.type)
    video_preset = pick_preset(preset, torch_device.type)
    check_crf(crf)
    fit_config = FitConfig(steps=steps, lr=lr, motion=motion)
    output = check_output(output if output is not None else audio.with_suffix(".mp4"), overwrite=overwrite,
                          inputs=tuple(Path(p) for p in (audio, image, model) if p is not None))
    if save_model is not None:
        check_output(save_model, overwrite=True)
    if image is not None and model is not None:
        raise OptionError("image and model cannot be used together: a saved model is already fitted")
    if stems is not None:
        stem_names(stems, separator)
        layout = layout or ("row" if stems == 2 else "grid")
        panel_grid(stems, layout)
        panels = panels or ("shared" if image is not None or model is not None else "own")
        if panels not in ("shared", "own"):
            raise OptionError(f"panels={panels!r} is not one of ['shared', 'own']")

    with cpu_threads(threads):  # every slow stage below
        cover = load_image(image) if image is not None else None
        if model is not None:
            network, meta = cppn.load(model)
            for name, wanted in (("latent_dim", latent_dim), ("hidden", hidden)):
                if wanted is not None and wanted != getattr(network.config, name):
                    raise OptionError(f"{name}={wanted} does not match the saved model {str(model)!r} "
                                      f"({name}={getattr(network.config, name)}); leave it out")
            aspect = meta.get("aspect")
        else:
            defaults = cppn.CPPNConfig()
            config = cppn.CPPNConfig(latent_dim=defaults.latent_dim if latent_dim is None else latent_dim,
                                     hidden=defaults.hidden if hidden is None else hidden)
            network = cppn.build(config, seed)
            aspect = cover.shape[1] / cover.shape[0] if cover is not None else None
        width, height = frame_size or size_for_aspect(aspect or 1.0)

        song = open_audio(audio, start=start, duration=duration)  # decoded once, block by block
        latents = mel_latents(song, fps_exact, LatentConfig(latent_dim=network.config.latent_dim))
        seconds = song.n_samples / song.sample_rate
        n_frames = frame_count(song.n_samples, song.sample_rate, fps_exact)
        assert latents.shape[0] == n_frames

        panel_latents: list[np.ndarray] = []
        if stems is not None:
            separated = separate(audio, stems=stems, separator=separator, start=start, duration=duration,
                                 device=str(torch_device), cache=cache, cache_dir=cache_dir,
                                 spleeter_python_path=None if spleeter_python is None else str(spleeter_python),
                                 spleeter_config=spleeter_config, demucs_model=demucs_model, demucs_repo=demucs_repo,
                                 progress=not quiet)
            log.info("stems by %s%s: %s", separated.backend, " (from the cache)" if separated.cached else "",
                     ", ".join(separated.stems))
            for samples in separated.stems.values():
                stem = Audio(samples, separated.sample_rate, audio, song.start)
                stem_latents = mel_latents(stem, fps_exact, LatentConfig(latent_dim=network.config.latent_dim))
                panel_latents.append(_match_rows(stem_latents, n_frames))

        fitting = cover is not None and fit_config.steps > 0
        if fitting and (stems is None or panels == "shared"):
            fit(network, cover, np.concatenate([latents, *panel_latents]), config=fit_config, seed=seed,
                device=torch_device, progress=not quiet)
        if save_model is not None:
            cppn.save(network, save_model, aspect=aspect, neuromv=__version__)
        networks: list[cppn.CPPN] = []
        for index in range(len(panel_latents)):
            if panels == "shared":
                networks.append(network)
                continue
            own = cppn.build(network.config, seed + index)
            if fitting:
                fit(own, cover, panel_latents[index], config=fit_config, seed=seed + index, device=torch_device,
                    progress=not quiet)
            networks.append(own)

        metadata = {
            "neuromv": __version__, "seed": seed, "fps": str(fps_exact), "size": f"{width}x{height}",
            "start": song.start, "duration": round(seconds, 6), "network": asdict(network.config),
            "image": Path(image).name if image is not None else None, "steps": steps if image is not None else 0,
            "lr": lr, "motion": motion, "model": Path(model).name if model is not None else None,
            "precision": precision, "encoder": video_encoder, "preset": video_preset, "crf": crf,
        }
        if stems is not None:
            metadata.update(stems=list(separated.stems), separator=separated.backend, layout=layout, panels=panels)
            columns, rows = panel_grid(stems, layout)
            stream = panel_frames(list(zip(networks, panel_latents)), width, height, layout=layout,
                                  labels=list(separated.stems) if labels else None, device=torch_device,
                                  batch_size=batch_size, precision=precision)
            video_width, video_height = columns * width, rows * height
        else:
            stream = frames(network, latents, width, height, device=torch_device, batch_size=batch_size,
                            precision=precision)
            video_width, video_height = width, height
        track = AudioTrack(song.path, song.start, seconds)
        with contextlib.closing(stream), \
                VideoWriter(output, video_width, video_height, fps_exact, audio=track, metadata=metadata, crf=crf,
                            preset=video_preset, encoder=video_encoder,
                            threads=pick_threads(preset, torch_device.type)) as writer, \
                tqdm(total=n_frames, desc="rendering", unit="frame", disable=quiet, leave=False) as bar:
            for batch in stream:
                writer.write(batch)
                bar.update(batch.shape[0])
        return output


def _match_rows(latents: np.ndarray, frames: int) -> np.ndarray:
    """Trim or repeat the last row so a stem's latents have exactly ``frames`` rows (resampling may round a
    stem's length by a sample)."""
    if latents.shape[0] >= frames:
        return latents[:frames]
    return np.concatenate([latents, np.repeat(latents[-1:], frames - latents.shape[0], axis=0)])
