"""``render()``, the one entry point that the CLI, the notebook and the examples call, and its stages.

a :class:`RenderSpec` -> :func:`prepare` (the song opened, its latents on the frame grid, the networks built, fitted
or loaded: a :class:`Prepared`) -> its :class:`FrameSource` (frame k a pure function of k) -> a sink
(:func:`write_mp4`; the web player and other outputs take the same prepared value).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from . import __version__
from .look import sharpen as detail
from .out import provenance as record
from .network import cppn
from .look import flashes, presets
from .music import learned
from .io.audio import Audio, AudioStream, frame_count, load_audio, open_audio
from .music.bank import FeatureBank, feature_bank
from .errors import OptionError
from .music.mel import LatentConfig, mel_latents
from .network.fit import FAITHFUL_FOURIER, fit, load_image, recipe, shown
from .look.effects import LUMA
from .render import FrameSource, cpu_threads, pick_device, pick_precision
from .score import visual_change
from .spec import RenderSpec, fields, size_for_aspect
from .music.stems import separate
from .out.video import AudioTrack, VideoWriter, check_output, pick_encoder, pick_preset, pick_threads

log = logging.getLogger("neuromv")

#: Side of each panel in the flash limit's preview: 4 samples in each cell of the flash analysis's grid.
PREVIEW = 2 * flashes.GRID
#: A ``"motion": "scaled"`` preset's gain is at most this: its swings 4 times as deep and its light 6.25 times as
#: fast (:meth:`presets.Preset.scaled`; at most 0.31 of a ring a frame at glow's fastest), so that a near-silent song
#: does not swing wildly and the rings never step half a ring a frame.
MAX_GAIN = 25.0
#: The motion search's steps after gains 0 and 1, and how near (a fraction of ``--motion``) it stops.
GAIN_STEPS, GAIN_TOLERANCE = 4, 0.05
#: Pairs of consecutive frames the motion search previews at most (20 s at 30 fps: every pair).
MOTION_PAIRS = 600
#: Halvings of the gain when the wanted motion would flash (on the frames where it did), and the rounds of them
#: (each checked on every frame; a round that fails searches below its gain, with where that gain flashed too).
SAFE_STEPS, SAFE_ROUNDS = 6, 3


@dataclass(frozen=True)
class Prepared:
    """Everything a video's frames are a function of, decided before the first frame.

    ``spec``: resolved (``size``, ``hidden``, ``latent_dim``, and with stems ``layout`` and ``panels``, filled in).
    ``panels``: (network, float32 latents [frames, latent_dim]) per panel; one panel without stems.
    ``labels``: the stem names to draw on the panels, or None. ``excerpt``: the stretch of the song the video covers.
    ``params``: the preset's parameter tracks (None for classic). ``sharpen``: the amount of :func:`detail.sharpen`
    on every frame (a faithful fit's: the cover's fine detail at this size; 0 for the others). ``facts``: what was
    found on the way (the cover's hash, the separator that ran, the stem names).
    """

    spec: RenderSpec
    device: torch.device
    excerpt: AudioTrack
    panels: list[tuple[cppn.CPPN, np.ndarray]]
    labels: list[str] | None = None
    params: presets.ParamTracks | None = None
    sharpen: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def frame_count(self) -> int:
        return self.panels[0][1].shape[0]

    def frames(self) -> FrameSource:
        """The video's frames."""
        width, height = self.spec.frame_size
        return FrameSource(self.panels, width, height, layout=self.spec.layout or "row", labels=self.labels,
                           device=self.device, batch_size=self.spec.batch_size, precision=self.spec.precision,
                           params=self.params, sharpen=self.sharpen)


def _features_model(spec: RenderSpec) -> learned.Autoencoder | None:
    """The features model that makes z (None: the mel latents)."""
    return None if spec.features == "mel" else learned.load(spec.features)[0]


def _network(spec: RenderSpec, cover: np.ndarray | None,
             features: learned.Autoencoder | None = None) -> tuple[cppn.CPPN, float | None, dict[str, Any] | None]:
    """The network (loaded, or built from the seed), the picture's aspect, if the inputs have one, and a loaded
    network's cover's fine detail (:func:`detail.ladder`), if it kept it. With a features model, z has its K numbers
    a frame; a preset that fits faithfully gets :data:`FAITHFUL_FOURIER` Fourier features."""
    dims = None if features is None else features.config.dims
    if dims is not None and spec.latent_dim is not None and spec.latent_dim != dims:
        raise OptionError(f"latent_dim={spec.latent_dim} does not match features={spec.features!r}, which gives "
                          f"{dims} numbers a frame; leave latent_dim out")
    if spec.model is not None:
        network, meta = cppn.load(spec.model)
        for name in ("latent_dim", "hidden"):
            wanted, saved = getattr(spec, name), getattr(network.config, name)
            if wanted is not None and wanted != saved:
                raise OptionError(f"{name}={wanted} does not match the saved model {spec.model!r} ({name}={saved}); "
                                  "leave it out")
        if dims is not None and network.config.latent_dim != dims:
            raise OptionError(f"features={spec.features!r} gives {dims} numbers a frame but the saved model "
                              f"{spec.model!r} takes {network.config.latent_dim} (latent_dim); use the features it "
                              "was fitted with")
        return network, meta.get("aspect"), meta.get("detail")
    defaults = cppn.CPPNConfig()
    latent_dim = dims or (defaults.latent_dim if spec.latent_dim is None else spec.latent_dim)
    fourier = FAITHFUL_FOURIER if presets.load(spec.preset).fit == "faithful" else defaults.fourier
    config = cppn.CPPNConfig(latent_dim=latent_dim, hidden=defaults.hidden if spec.hidden is None else spec.hidden,
                             fourier=fourier)
    return cppn.build(config, spec.seed), cover.shape[1] / cover.shape[0] if cover is not None else None, None


def latents_of(audio: Audio | AudioStream, fps: Any, config: LatentConfig,
               features: learned.Autoencoder | None) -> np.ndarray:
    """z for every frame: the mel latents, or a features model's codes."""
    return mel_latents(audio, fps, config) if features is None else learned.learned_latents(features, audio, fps)


def _resolved(spec: RenderSpec, config: cppn.CPPNConfig, aspect: float | None) -> RenderSpec:
    width, height = spec.frame_size or size_for_aspect(aspect or 1.0)
    preset = presets.load(spec.preset)  # its content, so that the video records the look itself and not a name
    changes: dict[str, Any] = dict(size=f"{width}x{height}", hidden=config.hidden, latent_dim=config.latent_dim,
                                   preset="classic" if preset.classic else preset.to_json())
    if spec.stems is not None:
        changes.update(layout=spec.layout or ("row" if spec.stems == 2 else "grid"),
                       panels=spec.panels or ("shared" if spec.image or spec.model else "own"))
    return spec.replace(**changes)


def resolve(spec: RenderSpec) -> RenderSpec:
    """``spec`` with every value its inputs decide filled in (see :class:`Prepared`), without decoding the song."""
    network, aspect, _ = _network(spec, load_image(spec.image) if spec.image is not None else None,
                                  _features_model(spec))
    return _resolved(spec, network.config, aspect)


def _stem_latents(spec: RenderSpec, song: AudioStream, frames: int, config: LatentConfig,
                  device: torch.device, features: learned.Autoencoder | None
                  ) -> tuple[dict[str, Any], list[np.ndarray]]:
    """Split the excerpt into stems and compute each stem's latents on the same frame grid."""
    separated = separate(spec.song, stems=spec.stems, separator=spec.separator, start=spec.start,
                         duration=spec.duration, device=str(device), cache=spec.cache, cache_dir=spec.cache_dir,
                         spleeter_python_path=spec.spleeter_python, spleeter_config=spec.spleeter_config,
                         demucs_model=spec.demucs_model, demucs_repo=spec.demucs_repo, progress=not spec.quiet)
    log.info("stems by %s%s: %s", separated.backend, " (from the cache)" if separated.cached else "",
             ", ".join(separated.stems))
    latents = [_match_rows(latents_of(Audio(samples, separated.sample_rate, song.path, song.start), spec.fps,
                                      config, features), frames) for samples in separated.stems.values()]
    return {"stems": list(separated.stems), "separator": separated.backend}, latents


def prepare(spec: RenderSpec, device: torch.device | None = None, fitted: cppn.CPPN | None = None) -> Prepared:
    """Open the song, compute its latents (and its stems'), and build, fit or load the networks.

    ``fitted``: the network an earlier ``prepare`` of this spec's song, cover and fitting options fitted (and saved
    with ``save_model``), used as is: a batch fits once for every size of a song.
    """
    device = device or pick_device(spec.device)
    pick_precision(spec.precision, device)
    if spec.save_model is not None:
        check_output(spec.save_model, overwrite=True)
    if fitted is not None and spec.stems is not None and spec.panels == "own":
        raise OptionError("a fitted network is one for every panel: it cannot be given with panels='own'")
    cover = load_image(spec.image) if spec.image is not None else None
    features = _features_model(spec)
    network, aspect, kept = _network(spec, cover, features)
    if fitted is not None:
        network = fitted
    spec = _resolved(spec, network.config, aspect)
    song = open_audio(spec.song, start=spec.start, duration=spec.duration)  # decoded once, block by block
    latent_config = LatentConfig(latent_dim=network.config.latent_dim)
    latents = latents_of(song, spec.frame_rate, latent_config, features)
    frames = frame_count(song.n_samples, song.sample_rate, spec.frame_rate)
    assert latents.shape[0] == frames
    facts = record.input_hashes(spec)
    panel_latents = [latents]
    if spec.stems is not None:
        stem_facts, panel_latents = _stem_latents(spec, song, frames, latent_config, device, features)
        facts.update(stem_facts)
    look = presets.load(spec.preset)
    window = shown(cover.shape, spec.frame_size) if cover is not None else None
    fit_config = recipe(look.fit, steps=spec.steps, lr=spec.lr, motion=spec.motion, window=window)
    fitting = cover is not None and spec.steps > 0 and fitted is None
    shared = spec.stems is None or spec.panels == "shared"
    if fitting and shared:
        every = latents if spec.stems is None else np.concatenate([latents, *panel_latents])  # the mix's and stems'
        fit(network, cover, every, config=fit_config, seed=spec.seed, device=device, progress=not spec.quiet)
    if cover is not None and look.fit == "faithful":
        kept = detail.ladder(cover)  # as the saved network keeps it, so that its renders sharpen as this one
    if spec.save_model is not None:
        cppn.save(network, spec.save_model, aspect=aspect, neuromv=__version__, **({"detail": kept} if kept else {}))
    networks = [network] * len(panel_latents)
    if not shared:  # a network per panel, each its own seed (and fit)
        networks = [cppn.build(network.config, spec.seed + index) for index in range(len(panel_latents))]
        for index, own in enumerate(networks):
            if fitting:
                fit(own, cover, panel_latents[index], config=fit_config, seed=spec.seed + index, device=device,
                    progress=not spec.quiet)
    excerpt = AudioTrack(song.path, song.start, spec.duration)  # decoded again as it was here, the same samples
    facts["duration"] = round(song.n_samples / song.sample_rate, 6)
    panels = list(zip(networks, panel_latents))
    if look.motion == "scaled":
        spec, params, facts["motion"] = _scaled(spec, look, panels, device)
    else:
        params = parameter_tracks(spec)
        if limits_flashes(spec):
            panels, params, facts["flashes"] = _tamed(spec, panels, params, device)
    prepared = Prepared(spec, device, excerpt, panels, labels=facts.get("stems") if spec.labels else None,
                        params=params, facts=facts)
    if look.fit != "faithful" or not kept:
        return prepared
    facts["sharpen"] = amount = _sharpening(prepared, detail.cover_energy(kept, spec.frame_size))
    return replace(prepared, sharpen=amount)


def _sharpening(prepared: Prepared, energy: float) -> float:
    """The :func:`detail.amount` of :data:`detail.SAMPLES` of the video's frames, spread over it, for ``energy``."""
    source = prepared.frames()
    rows = np.unique(np.linspace(0, source.count - 1, detail.SAMPLES).round().astype(int))
    return detail.amount(np.stack([source.frame(int(k)) for k in rows]), energy)


def limits_flashes(spec: RenderSpec) -> bool:
    """Whether the render is kept under the flash limit: ``flash_limit``, whose default is on for every preset but
    ``classic`` (whose frames stay as they always were)."""
    return spec.flash_limit if spec.flash_limit is not None else not presets.load(spec.preset).classic


def _preview(spec: RenderSpec, panels: list[tuple[cppn.CPPN, np.ndarray]], params: presets.ParamTracks | None,
             device: torch.device, rows: np.ndarray | None = None) -> np.ndarray:
    """uint8 [frames, h, w, 3]: every frame, or frames ``rows`` alone (each a pure function of its rows), each panel
    :data:`PREVIEW` pixels a side (as the score and the flash check see a video)."""
    if rows is not None:
        panels = [(network, latents[rows]) for network, latents in panels]
        params = None if params is None else replace(params, values=params.values[rows])
    source = FrameSource(panels, PREVIEW, PREVIEW, layout=spec.layout or "row", device=device,
                         precision=spec.precision, params=params)
    with contextlib.closing(source.batches()) as batches:
        return np.concatenate(list(batches))


def _motion(spec: RenderSpec, panels: list[tuple[cppn.CPPN, np.ndarray]], params: presets.ParamTracks,
            device: torch.device) -> float:
    """Gray levels a frame that a preview changes by: over every pair of consecutive frames, or over
    :data:`MOTION_PAIRS` pairs spread evenly across a longer song."""
    frames = panels[0][1].shape[0]
    if frames < 2:
        return 0.0
    rows = None
    if frames - 1 > MOTION_PAIRS:
        starts = np.linspace(0, frames - 2, MOTION_PAIRS).round().astype(np.int64)
        rows = np.stack([starts, starts + 1], axis=1).ravel()
    gray = _preview(spec, panels, params, device, rows).astype(np.float32) @ np.asarray(LUMA, np.float32)
    return float(visual_change(gray)[1:].mean() if rows is None else np.abs(gray[1::2] - gray[0::2]).mean())


def _scaled(spec: RenderSpec, look: presets.Preset, panels: list[tuple[cppn.CPPN, np.ndarray]],
            device: torch.device) -> tuple[RenderSpec, presets.ParamTracks, dict[str, float]]:
    """A ``"motion": "scaled"`` preset's swings scaled so that a preview of every frame changes by ``spec.motion``
    gray levels a frame (at most :data:`MAX_GAIN` times the preset's own), and held below the flash limit when the
    render keeps to it (:func:`limits_flashes`). Returns the spec with the scaled preset (what the video records), its
    tracks, and what was found."""
    bank = song_bank(spec, learned_too=bool(presets.learned_features(look)))
    fps = float(spec.frame_rate)

    worst: dict[float, float] = {}  # gain -> the worst flashes a second of its preview of every frame
    tracks = functools.cache(lambda gain: presets.tracks(look.scaled(gain), bank))
    measure = functools.cache(lambda gain: _motion(spec, panels, tracks(gain), device))  # the preview's motion

    def within(frames: np.ndarray, first: int = 0) -> tuple[float, bool]:
        """(the worst flashes a second, whether within the target) of ``frames`` of a preview, from frame ``first``;
        if not within, where they flashed becomes the spans to look at next."""
        found, where = flashes.suspects(frames, fps, flashes.TARGET)
        if where:
            spans[:] = [(first + a, first + b) for a, b in where]
        return found.worst, found.worst <= flashes.TARGET

    def safe(gain: float) -> bool:  # every frame of the gain's preview
        if gain not in worst:
            worst[gain] = within(_preview(spec, panels, tracks(gain), device))[0]
        return worst[gain] <= flashes.TARGET

    def safe_where_it_flashed(gain: float) -> bool:
        """:func:`safe` on the spans where the lowest gain known to flash did, each previewed alone."""
        cut = [(first, min(end, frame_count)) for first, end in spans]
        rows = np.concatenate([np.arange(first, end) for first, end in cut] or [np.zeros(0, np.int64)])
        if not 0 < rows.size <= frame_count // 2:
            return safe(gain)
        parts = np.split(_preview(spec, panels, tracks(gain), device, rows),
                         np.cumsum([end - first for first, end in cut])[:-1])
        return all(within(part, first)[1] for (first, _), part in zip(cut, parts))

    frame_count = panels[0][1].shape[0]
    spans: list[tuple[int, int]] = []  # where the lowest gain found unsafe flashed
    gain = wanted = motion_gain(measure, spec.motion)
    if limits_flashes(spec) and not safe(gain):  # the largest gain that is safe (gain 0 is a still picture)
        high = gain
        for _ in range(SAFE_ROUNDS):  # searched where the unsafe gains flashed, then checked on every frame
            low = 0.0
            for _ in range(SAFE_STEPS):
                middle = (low + high) / 2
                low, high = (middle, high) if safe_where_it_flashed(middle) else (low, middle)
            if low == 0.0 or safe(low):
                break
            high = low
        else:
            low = 0.0
        gain = low
        log.warning("tamed: at %.1f gray levels a frame the video would flash %.1f times a second (WCAG 2.3.1 "
                    "allows 3); its swings are held to %.2f of that, %.1f gray levels a frame",
                    spec.motion, worst[wanted], gain / max(wanted, 1e-9), measure(gain))
    scaled = look.scaled(gain)
    facts = dict(gain=round(gain, 4), wanted=spec.motion, preview=round(measure(gain), 3))
    if gain in worst:
        facts["flashes"] = worst[gain]
    return spec.replace(preset=scaled.to_json()), tracks(gain), facts


def motion_gain(measure: Callable[[float], float], target: float) -> float:
    """The gain whose ``measure`` (motion, rising with the gain) is ``target``: a secant search from gains 0 and 1,
    within :data:`GAIN_TOLERANCE` of it or :data:`GAIN_STEPS` steps, and from 0 to :data:`MAX_GAIN`."""
    points = [(0.0, measure(0.0)), (1.0, measure(1.0))]
    gain = 1.0
    for _ in range(GAIN_STEPS):
        (g0, m0), (g1, m1) = sorted(points, key=lambda p: abs(p[1] - target))[:2]
        if abs(m1 - m0) < 1e-6:
            break
        gain = min(max(g1 + (target - m1) * (g1 - g0) / (m1 - m0), 0.0), MAX_GAIN)
        if any(abs(gain - g) < 1e-4 for g, _ in points):
            break
        points.append((gain, measure(gain)))
        if abs(points[-1][1] - target) <= GAIN_TOLERANCE * max(target, 0.1):
            break
    return min(points, key=lambda p: abs(p[1] - target))[0]


def _tamed(spec: RenderSpec, panels: list[tuple[cppn.CPPN, np.ndarray]], params: presets.ParamTracks | None,
           device: torch.device) -> tuple[list[tuple[cppn.CPPN, np.ndarray]], presets.ParamTracks | None,
                                      dict[str, float]]:
    """The panels' latents and the parameter tracks smoothed just enough that a preview of every frame (each panel
    :data:`PREVIEW` pixels a side) flashes at most :data:`flashes.TARGET` times a second; as they are when it
    already does (then the frames are exactly the untamed ones)."""
    fps = float(spec.frame_rate)

    def calmed(window: int) -> tuple[list[tuple[cppn.CPPN, np.ndarray]], presets.ParamTracks | None]:
        return ([(network, flashes.calm(latents, window)) for network, latents in panels],
                None if params is None else replace(params, values=flashes.calm(params.values, window)))

    def check(window: int) -> flashes.Flashes:
        return flashes.flashes(_preview(spec, *calmed(window), device), fps)

    taming = flashes.tame(check, fps)
    if taming.window > 1:
        log.warning("tamed: the video would flash %.1f times a second (WCAG 2.3.1 allows 3); z and the preset's "
                    "parameters are smoothed over %.2f s, to %.1f a second",
                    taming.before, taming.window / fps, taming.after)
    return (*calmed(taming.window), asdict(taming))


def song_bank(spec: RenderSpec, learned_too: bool = False) -> FeatureBank:
    """The excerpt's feature bank, with the learned features (``learned.0`` ...) when ``learned_too``: from the
    spec's features model, or the shipped one when z is the mel latents."""
    if not learned_too:  # streamed: memory stays bounded
        return feature_bank(open_audio(spec.song, start=spec.start, duration=spec.duration), spec.frame_rate)
    audio = load_audio(spec.song, start=spec.start, duration=spec.duration)  # decoded once for both
    model = learned.load("learned" if spec.features == "mel" else spec.features)[0]
    columns = learned.bank_columns(model, audio, spec.frame_rate)
    return feature_bank(audio, spec.frame_rate).with_features(learned.names(model.config.dims), columns)


def parameter_tracks(spec: RenderSpec) -> presets.ParamTracks | None:
    """The preset's parameters over the excerpt (None for classic), from the song's feature bank."""
    preset = presets.load(spec.preset)
    if preset.classic:
        return None
    bank = song_bank(spec, learned_too=bool(presets.learned_features(preset)))
    return presets.tracks(preset, bank)


def encoding(spec: RenderSpec, device: torch.device) -> dict[str, Any]:
    """The encoder settings for frames rendered on ``device``: :class:`VideoWriter`'s keywords, ``auto`` resolved."""
    return dict(encoder=pick_encoder(spec.encoder, device.type), preset=pick_preset(spec.x264_preset, device.type),
                threads=pick_threads(spec.x264_preset, device.type), crf=spec.crf)


def write_mp4(prepared: Prepared, output: Path, settings: dict[str, Any]) -> Path:
    """The MP4 sink: every frame, in order, streamed into FFmpeg with the excerpt's audio and the video's record."""
    source = prepared.frames()
    stream = source.batches()
    tag = record.made(prepared, settings)
    with contextlib.closing(stream), \
            VideoWriter(output, source.width, source.height, prepared.spec.frame_rate, audio=prepared.excerpt,
                        metadata=tag, **settings) as writer, \
            tqdm(total=source.count, desc="rendering", unit="frame", disable=prepared.spec.quiet, leave=False) as bar:
        for batch in stream:
            writer.write(batch)
            bar.update(batch.shape[0])
    return output


def output_path(spec: RenderSpec) -> Path:
    """Where the video goes (default: the song's path with ``.mp4``), checked before any slow work."""
    inputs = tuple(Path(p) for p in (spec.song, spec.image, spec.model) if p is not None)
    return check_output(spec.output or Path(spec.song).with_suffix(".mp4"), overwrite=spec.overwrite, inputs=inputs)


def make_spec(spec: RenderSpec | None = None, **options: Any) -> RenderSpec:
    """``spec`` (default: the defaults) with ``options`` (spec field names) changed; ``None`` song/output kept."""
    for name in ("song", "output"):
        if options.get(name) is None:
            options.pop(name, None)
    return (spec or RenderSpec()).replace(**options)


def render(song: str | Path | None = None, output: str | Path | None = None, *, spec: RenderSpec | None = None,
           **options: Any) -> Path:
    """Render a music video for ``song`` and return the MP4's path.

    ``output``: the MP4 to write (default: the song's path with ``.mp4``). ``spec``: a :class:`RenderSpec` to start
    from; ``options``: any of its fields as keywords, e.g. ``image="cover.jpg", size=512, seed=7`` (listed in
    ``neuromv render --help`` and the README; a misspelt one is refused with the nearest name).
    """
    return render_spec(make_spec(spec, song=song, output=output, **options))


def render_spec(spec: RenderSpec, fitted: cppn.CPPN | None = None) -> Path:
    """:func:`render` of a whole spec (``fitted``: see :func:`prepare`); returns the MP4's path."""
    if spec.song is None:
        raise OptionError("no song given: name one (neuromv render SONG, render('song.mp3')) or use a spec that has one")
    target = output_path(spec)
    device = pick_device(spec.device)
    settings = encoding(spec, device)
    with cpu_threads(spec.threads):  # every slow stage
        return write_mp4(prepare(spec, device, fitted), target, settings)


def _match_rows(latents: np.ndarray, frames: int) -> np.ndarray:
    """Trim or repeat the last row so a stem's latents have exactly ``frames`` rows (resampling may round a
    stem's length by a sample)."""
    if latents.shape[0] >= frames:
        return latents[:frames]
    return np.concatenate([latents, np.repeat(latents[-1:], frames - latents.shape[0], axis=0)])


def _signature() -> inspect.Signature:
    """render()'s signature with every spec field as a keyword (for help(), IDEs and the test that walks them)."""
    head = list(inspect.signature(render).parameters.values())[:3]
    keywords = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type)
                for f in fields() if f.name not in ("song", "output")]
    return inspect.Signature(head + keywords, return_annotation=Path)


render.__signature__ = _signature()  # type: ignore[attr-defined]
