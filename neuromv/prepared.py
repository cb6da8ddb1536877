"""A spec -> :class:`Prepared`: everything a video's frames are a function of, decided before the first frame.

:func:`prepare` reads as its stages: the inputs read once (:func:`read_inputs`: the cover, the features model, the
network built or loaded, the spec resolved), the song opened and its latents on the frame grid, with the stems'
(:func:`song_latents`), the networks fitted (:func:`fit_networks`; :func:`fit_network` is that much alone, for a
batch that fits once for every size of a song), the look's motion (:func:`moves`: the preset's tracks, scaled to
``--motion`` and held under the flash limit), and the sharpening amount (:func:`sharpening`).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import __version__
from .checks import size_for_aspect
from .draw import FrameSource, pick_device, pick_precision
from .errors import OptionError
from .io.audio import Audio, AudioStream, frame_count, load_audio, open_audio
from .io.files import cache_root, check_output, content_hash
from .look import motion, presets, sequence, sharpen
from .look.flashes import Taming
from .look.motion import Scaling
from .music import learned
from .music.bank import FeatureBank, cached_bank
from .music.mel import LatentConfig, mel_latents
from .music.sections import Sections, find_sections
from .music.stems import separate
from .network import cppn
from .network.fit import FAITHFUL_FOURIER, VARIED_Z_SCALE, fit, recipe
from .network.image import LUMA, framed_like, load_image, shown
from .out.video import AudioTrack
from .spec import HASHED, RenderSpec

log = logging.getLogger("neuromv")

Panels = list[tuple[cppn.CPPN, np.ndarray]]
#: The song's latent rows whose previews measure how much z moves a network between two of its pictures.
SPREAD_ROWS = 16


@dataclass(frozen=True)
class Made:
    """What a render found on the way, as the video records it: the SHA-256 of its cover, saved model and features
    model (``image_sha256`` ..., None when not given; a list for a sequence of covers), the excerpt's ``duration`` in
    seconds, with stems their names and the separator that ran, and with a sequence of covers where each begins
    (:meth:`sequence.Change.record`)."""

    hashes: dict[str, Any]
    duration: float
    stems: tuple[str, ...] | None = None
    separator: str | None = None
    changes: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class Moves:
    """How the look moves the picture: the preset's parameter ``params`` over the video (None for classic), the
    feature ``bank`` they were computed from, the flash limit's ``taming``, the motion search's ``scaling`` of a
    scaled preset's swings and its ``latent_scaling`` of a varied network's latents (each None when it did not
    run)."""

    params: presets.ParamTracks | None = None
    bank: FeatureBank | None = None
    taming: Taming | None = None
    scaling: Scaling | None = None
    latent_scaling: Scaling | None = None


@dataclass(frozen=True)
class Prepared:
    """Everything a video's frames are a function of, decided before the first frame.

    ``spec``: resolved (``size``, ``hidden``, ``latent_dim``, the preset's content, and with stems ``layout`` and
    ``panels``, filled in). ``excerpt``: the stretch of the song the video covers. ``panels``: (network, float32
    latents [frames, latent_dim]) per panel; one panel without stems. ``made``: what was found on the way.
    ``moves``: the look's parameter tracks and how they were scaled and tamed. ``labels``: the stem names to draw on
    the panels, or None. ``sharpen``: the amount of :func:`sharpen.sharpen` on every frame (a faithful fit's: the
    cover's fine detail at this size; 0 for the others; one a picture for a sequence of covers, each picture's frames
    against its own detail). ``pictures``: with a sequence of covers, float32 [frames,
    pictures], each frame's share of each (:func:`sequence.shares`); None with one.
    """

    spec: RenderSpec
    device: torch.device
    excerpt: AudioTrack
    panels: Panels
    made: Made
    moves: Moves = field(default_factory=Moves)
    labels: list[str] | None = None
    sharpen: float | tuple[float, ...] = 0.0
    pictures: np.ndarray | None = None

    @property
    def frame_count(self) -> int:
        return self.panels[0][1].shape[0]

    @property
    def params(self) -> presets.ParamTracks | None:
        """The preset's parameter tracks (None for classic)."""
        return self.moves.params

    def frames(self) -> FrameSource:
        """The video's frames."""
        width, height = self.spec.panel_size
        return FrameSource(self.panels, width, height, layout=self.spec.layout or "row", labels=self.labels,
                           device=self.device, batch_size=self.spec.batch_size, precision=self.spec.precision,
                           params=self.params, pictures=self.pictures, sharpen=self.sharpen,
                           fused=motion.drawn_fused(self.spec, self.params))

    def feature_bank(self, learned_too: bool = False) -> FeatureBank:
        """The excerpt's feature bank: the one the look used when it has what is asked, else computed."""
        bank = self.moves.bank
        if bank is not None and (not learned_too or any(name.startswith("learned.") for name in bank.names)):
            return bank
        return song_bank(self.spec, learned_too)


@dataclass(frozen=True)
class Inputs:
    """The spec's files, read once: the resolved ``spec``, the ``covers`` (float32 [H, W, 3] each: none, one, or a
    sequence framed like the first), the ``features`` model that makes z (None: the mel latents), the ``network``
    (built from the seed, loaded, or given), the picture's ``aspect`` and the first cover's fine detail
    (:func:`sharpen.ladder`) when a faithful look needs it."""

    spec: RenderSpec
    covers: list[np.ndarray]
    features: learned.Autoencoder | None
    network: cppn.CPPN
    aspect: float | None
    ladder: dict[str, Any] | list[dict[str, Any]] | None

    @property
    def cover(self) -> np.ndarray | None:
        """The first cover, or None."""
        return self.covers[0] if self.covers else None


@dataclass(frozen=True)
class Music:
    """The song's latents on the frame grid: the ``mix``'s, each panel's (the mix's alone without stems), and with
    stems their names and the separator that ran."""

    mix: np.ndarray
    panels: list[np.ndarray]
    stems: tuple[str, ...] | None = None
    separator: str | None = None


def prepare(spec: RenderSpec, device: torch.device | None = None, fitted: cppn.CPPN | None = None) -> Prepared:
    """Open the song, compute its latents (and its stems'), build, fit or load the networks, and decide the look's
    motion and sharpening.

    ``fitted``: the network an earlier :func:`fit_network` of this spec's song, cover and fitting options fitted (and
    saved with ``save_model``), used as is: a batch fits once for every size of a song.
    """
    device = device or pick_device(spec.device)
    pick_precision(spec.precision, device)
    if fitted is not None and spec.stems is not None and spec.panels == "own":
        raise OptionError("a fitted network is one for every panel: it cannot be given with panels='own'")
    inputs = read_inputs(spec, fitted)
    spec = inputs.spec
    song = open_audio(spec.song_path, start=spec.start, duration=spec.duration)  # decoded once, block by block
    music = song_latents(spec, song, inputs.features, device)
    bank, changes, pictures, recorded = None, None, None, None
    if inputs.network.config.pictures > 1:  # where the covers change, known before the fit
        bank = song_bank(spec)
        found = find_sections(bank, music.mix)
        changes = picture_changes(spec, inputs.network.config.pictures, found, bank.frames)
    networks = fit_networks(inputs, music, device, fit_them=fitted is None)
    gains = None
    if bank is not None and changes is not None:
        pictures, gains, recorded = picture_shares(spec, networks[0], music, changes, found.beats, device)
    made = Made(input_hashes(spec), round(song.n_samples / song.sample_rate, 6), music.stems, music.separator,
                recorded)
    panels = list(zip(networks, music.panels, strict=True))
    if pictures is not None and changes is not None and gains is not None:  # the music as strong in-between
        centre = np.concatenate(music.panels).mean(axis=0, dtype=np.float64)
        panels = [(network, sequence.steadied(latents, pictures, changes, gains, centre))
                  for network, latents in panels]
    spec, panels, look_moves = moves(spec, panels, device, pictures, bank)
    prepared = Prepared(spec, device, AudioTrack(song.path, song.start, spec.duration), panels, made, look_moves,
                        labels=list(music.stems) if spec.labels and music.stems else None, pictures=pictures)
    return replace(prepared, sharpen=sharpening(prepared, inputs.ladder))


def fit_network(spec: RenderSpec, device: torch.device | None = None) -> cppn.CPPN:
    """The network of ``spec`` fitted to its cover (built from the seed without one) and saved to ``save_model``:
    :func:`prepare`'s stages up to the fit, without the look's searches (a batch's fit task)."""
    device = device or pick_device(spec.device)
    inputs = read_inputs(spec)
    song = open_audio(inputs.spec.song_path, start=inputs.spec.start, duration=inputs.spec.duration)
    return fit_networks(inputs, song_latents(inputs.spec, song, inputs.features, device), device)[0]


def resolve(spec: RenderSpec) -> RenderSpec:
    """``spec`` with every value its inputs decide filled in (see :class:`Prepared`), without decoding the song."""
    return read_inputs(spec).spec


def input_hashes(spec: RenderSpec, digest: Any = content_hash) -> dict[str, str | None]:
    """``{"image_sha256": ..., "model_sha256": ...}`` of the spec's cover and saved model (None when not given), and
    ``features_sha256`` of a features model's file; ``digest``: the hash of a file (a batch memoises it)."""
    hashes: dict[str, Any] = {}
    for name in HASHED:
        path = getattr(spec, name)
        hashes[f"{name}_sha256"] = None if path is None else [digest(p) for p in path] if isinstance(path, tuple) \
            else digest(path)
    if spec.features.endswith(".pt"):  # a features model's file (mel and learned are this neuromv's own)
        hashes["features_sha256"] = digest(spec.features)
    return hashes


# --- the stages -------------------------------------------------------------------------------------------------

def read_inputs(spec: RenderSpec, given: cppn.CPPN | None = None) -> Inputs:
    """The cover, the features model and the network (``given``, loaded, or built from the seed) of ``spec``, and
    ``spec`` resolved from them. A saved model that does not match the spec is an :class:`OptionError`."""
    if spec.save_model is not None:
        check_output(spec.save_model, overwrite=True)
    covers = [load_image(path) for path in spec.images]
    covers = [covers[0], *(framed_like(other, covers[0].shape) for other in covers[1:])] if covers else []
    cover = covers[0] if covers else None
    features = None if spec.features == "mel" else learned.load(spec.features)[0]
    look = presets.load(spec.preset)
    dims = None if features is None else features.config.dims
    if dims is not None and spec.latent_dim is not None and spec.latent_dim != dims:
        raise OptionError(f"latent_dim={spec.latent_dim} does not match features={spec.features!r}, which gives "
                          f"{dims} numbers a frame; leave latent_dim out")
    if spec.model is not None:
        network, meta = _saved_network(spec, features)
        aspect, ladder = meta.get("aspect"), meta.get("detail")
    else:
        network, ladder = _new_network(spec, features, look), None
        aspect = cover.shape[1] / cover.shape[0] if cover is not None else None
    if covers and look.faithful:  # as the saved network keeps it, so that its renders sharpen as this one
        ladder = sharpen.ladder(covers[0]) if len(covers) == 1 else [sharpen.ladder(each) for each in covers]
    network = given or network
    if spec.cue is not None and network.config.pictures == 1:
        raise OptionError(f"cue {spec.cue!r} needs a sequence of covers, but the saved model {spec.model!r} holds "
                          "one picture; give --image more than once instead")
    return Inputs(_resolved(spec, network.config, aspect, look), covers, features, network, aspect, ladder)


def _saved_network(spec: RenderSpec, features: learned.Autoencoder | None) -> tuple[cppn.CPPN, dict[str, Any]]:
    """The network written by ``save_model`` and its metadata, checked against the spec and the features model."""
    assert spec.model is not None
    network, meta = cppn.load(spec.model)
    for name in ("latent_dim", "hidden"):
        wanted, saved = getattr(spec, name), getattr(network.config, name)
        if wanted is not None and wanted != saved:
            raise OptionError(f"{name}={wanted} does not match the saved model {spec.model!r} ({name}={saved}); "
                              "leave it out")
    dims = None if features is None else features.config.dims
    if dims is not None and network.config.latent_dim != dims:
        raise OptionError(f"features={spec.features!r} gives {dims} numbers a frame but the saved model "
                          f"{spec.model!r} takes {network.config.latent_dim} (latent_dim); use the features it "
                          "was fitted with")
    return network, meta


def _new_network(spec: RenderSpec, features: learned.Autoencoder | None, look: presets.Preset) -> cppn.CPPN:
    """The network built from the seed: z has the features model's K numbers a frame, or ``latent_dim`` mel bins;
    a preset that fits faithfully gets :data:`FAITHFUL_FOURIER` Fourier features, and one that fits the cover's
    variations the latent gain :data:`VARIED_Z_SCALE`."""
    dims = None if features is None else features.config.dims
    defaults = cppn.CPPNConfig()
    latent_dim = dims or (defaults.latent_dim if spec.latent_dim is None else spec.latent_dim)
    fourier = FAITHFUL_FOURIER if look.faithful else defaults.fourier
    config = cppn.CPPNConfig(latent_dim=latent_dim, hidden=defaults.hidden if spec.hidden is None else spec.hidden,
                             fourier=fourier, z_scale=VARIED_Z_SCALE if look.fit == "varied" else defaults.z_scale,
                             pictures=max(1, len(spec.images)))
    return cppn.build(config, spec.seed)


def _resolved(spec: RenderSpec, config: cppn.CPPNConfig, aspect: float | None, look: presets.Preset) -> RenderSpec:
    width, height = spec.frame_size or size_for_aspect(aspect or 1.0)
    changes: dict[str, Any] = dict(size=f"{width}x{height}", hidden=config.hidden, latent_dim=config.latent_dim,
                                   preset="classic" if look.classic else look.to_json())  # the look, not a name
    if spec.stems is not None:
        changes.update(layout=spec.layout or ("row" if spec.stems == 2 else "grid"),
                       panels=spec.panels or ("shared" if spec.image or spec.model else "own"))
    return spec.replace(**changes)


def latent_config(spec: RenderSpec) -> LatentConfig:
    """How the spec's song becomes its mel latents (the browser player computes them the same way)."""
    assert spec.latent_dim is not None
    return LatentConfig(latent_dim=spec.latent_dim)


def latents_of(audio: Audio | AudioStream, fps: Any, config: LatentConfig,
               features: learned.Autoencoder | None) -> np.ndarray:
    """z for every frame: the mel latents, or a features model's codes."""
    return mel_latents(audio, fps, config) if features is None else learned.learned_latents(features, audio, fps)


def song_latents(spec: RenderSpec, song: AudioStream, features: learned.Autoencoder | None,
                 device: torch.device) -> Music:
    """The song's latents on the frame grid, and with ``stems`` each stem's from its own audio, on the same grid."""
    config = latent_config(spec)
    latents = latents_of(song, spec.frame_rate, config, features)
    frames = frame_count(song.n_samples, song.sample_rate, spec.frame_rate)
    assert latents.shape[0] == frames
    if spec.stems is None:
        return Music(latents, [latents])
    separated = separate(spec.song_path, stems=spec.stems, separator=spec.separator, start=spec.start,
                         duration=spec.duration, device=str(device), cache=spec.cache, cache_dir=spec.cache_dir,
                         spleeter_python=spec.spleeter_python, spleeter_config=spec.spleeter_config,
                         demucs_model=spec.demucs_model, demucs_repo=spec.demucs_repo, progress=not spec.quiet)
    log.info("stems by %s%s: %s", separated.backend, " (from the cache)" if separated.cached else "",
             ", ".join(separated.stems))
    stems = [_match_rows(latents_of(Audio(samples, separated.sample_rate, song.path, song.start), spec.frame_rate,
                                    config, features), frames) for samples in separated.stems.values()]
    return Music(latents, stems, tuple(separated.stems), separated.backend)


def _match_rows(latents: np.ndarray, frames: int) -> np.ndarray:
    """Trim or repeat the last row so a stem's latents have exactly ``frames`` rows (resampling may round a
    stem's length by a sample)."""
    if latents.shape[0] >= frames:
        return latents[:frames]
    return np.concatenate([latents, np.repeat(latents[-1:], frames - latents.shape[0], axis=0)])


def fit_networks(inputs: Inputs, music: Music, device: torch.device, fit_them: bool = True) -> list[cppn.CPPN]:
    """A network per panel: the one network fitted to the cover over every latent row (the mix's and the stems'),
    or with ``panels="own"`` one each from seeds ``seed``, ``seed + 1`` ..., each fitted to its panel's latents;
    the shared one saved to ``save_model``. ``fit_them`` False: the networks as they are."""
    spec, cover, network = inputs.spec, inputs.cover, inputs.network
    pictures: list[np.ndarray] | np.ndarray | None = inputs.covers if len(inputs.covers) > 1 else cover
    look = presets.load(spec.preset)
    window = shown(cover.shape, spec.panel_size) if cover is not None else None
    config = recipe(look.fit, steps=spec.steps, lr=spec.lr, motion=spec.motion, window=window)
    fitting = cover is not None and spec.steps > 0 and fit_them
    shared = spec.stems is None or spec.panels == "shared"
    if fitting and shared and pictures is not None:
        every = music.mix if spec.stems is None else np.concatenate([music.mix, *music.panels])
        fit(network, pictures, every, config=config, seed=spec.seed, device=device, progress=not spec.quiet)
    if spec.save_model is not None:
        extra = {"detail": inputs.ladder} if inputs.ladder else {}
        cppn.save(network, spec.save_model, aspect=inputs.aspect, neuromv=__version__, **extra)
    if shared:
        return [network] * len(music.panels)
    networks = [cppn.build(network.config, spec.seed + index) for index in range(len(music.panels))]
    for index, own in enumerate(networks):
        if fitting and pictures is not None:
            fit(own, pictures, music.panels[index], config=config, seed=spec.seed + index, device=device,
                progress=not spec.quiet)
    return networks


def moves(spec: RenderSpec, panels: Panels, device: torch.device, pictures: np.ndarray | None = None,
          bank: FeatureBank | None = None) -> tuple[RenderSpec, Panels, Moves]:
    """The look's parameter tracks and the latents they move with: a network fitted to the cover's variations has its
    latents' swings scaled to ``--motion`` (the music moves the cover through the network), and a ``"motion":
    "scaled"`` preset's swings are scaled to ``--motion`` too (on a varied network, with z held still: they add to
    the latents' motion, they do not replace it; the spec then records the scaled preset); the other presets' tracks
    as they are, tamed under the flash limit when it is on (with z too, but for a varied network's latents, which
    were scaled under it and keep their timing). ``pictures``: a sequence of covers' shares, which every preview
    shows; ``bank``: the song's feature bank when it was computed already."""
    look = presets.load(spec.preset)
    if look.classic and not motion.limits_flashes(spec):
        return spec, panels, Moves(bank=bank)
    wants_learned = bool(presets.learned_features(look))
    if not look.classic and (bank is None or wants_learned):
        bank = song_bank(spec, learned_too=wants_learned)
    latent_scaling = None
    if look.fit == "varied":
        panels, latent_scaling = motion.scale_latents(spec, panels, device, pictures)
    if look.motion == "scaled":
        assert bank is not None
        spec, scaled, scaling = motion.scale_motion(spec, look, panels, bank, device,
                                                    still_latents=look.fit == "varied", pictures=pictures)
        return spec, panels, Moves(scaled, bank, scaling=scaling, latent_scaling=latent_scaling)
    params: presets.ParamTracks | None = None if bank is None else presets.tracks(look, bank)
    if (latent_scaling is not None and not look.params) or not motion.limits_flashes(spec):
        return spec, panels, Moves(params, bank, latent_scaling=latent_scaling)
    panels, params, taming = motion.tame(spec, panels, params, device, latents_too=latent_scaling is None,
                                         pictures=pictures)
    return spec, panels, Moves(params, bank, taming, latent_scaling=latent_scaling)


def _picture_names(spec: RenderSpec, count: int) -> list[str]:
    """The file names of a sequence's covers (of a saved model's pictures: their numbers)."""
    return [Path(image).name for image in spec.images] or [f"picture {index}" for index in range(count)]


def picture_changes(spec: RenderSpec, count: int, found: Sections, frames: int) -> list[sequence.Change]:
    """Where each of a sequence's ``count`` covers begins: at the song's strongest section changes (``found``), or
    where the cue file says."""
    names = _picture_names(spec, count)
    cues = None if spec.cue is None else sequence.read_cue(spec.cue, names)
    return sequence.changes(count, found, spec.frame_rate, frames, start=spec.start, cues=cues,
                            cue_file=f"cue file {spec.cue!r}")


def picture_shares(spec: RenderSpec, network: cppn.CPPN, music: Music, changes: list[sequence.Change],
                   beats: np.ndarray, device: torch.device) -> tuple[np.ndarray, list[np.ndarray],
                                                                     list[dict[str, Any]]]:
    """A sequence of covers' shares of each frame (:func:`sequence.shares`), each transition at an even pace
    (:func:`sequence.even_pace`, on a preview with z at its mean), the latents' gain through each transition
    (:func:`sequence.steady_gains`, on previews of :data:`SPREAD_ROWS` of the song's latent rows), and where each
    picture begins as the video records it (logged too)."""
    count, fps = network.config.pictures, spec.frame_rate
    names = _picture_names(spec, count)
    rows = np.unique(np.linspace(0, music.mix.shape[0] - 1, SPREAD_ROWS).round().astype(np.int64))
    latents = np.concatenate([music.mix.mean(axis=0, dtype=np.float64).astype(np.float32)[None], music.mix[rows]])

    @functools.cache
    def gray(before: int, after: int, share: float) -> np.ndarray:
        """[rows + 1, h, w]: the mean latent's preview, then the rows', with ``share`` of the next picture."""
        mixes = np.zeros((latents.shape[0], count), np.float32)
        mixes[:, before], mixes[:, after] = 1.0 - share, share
        source = FrameSource([(network, latents)], motion.PREVIEW, motion.PREVIEW, device=device, pictures=mixes)
        return np.concatenate(list(source.batches())) @ LUMA

    def still(before: int, after: int, share: float) -> np.ndarray:
        return gray(before, after, share)[0]

    def spread(before: int, after: int, share: float) -> float:
        looks = gray(before, after, share)[1:]
        return float(np.abs(looks - looks.mean(axis=0)).mean())

    pairs = [(a.picture, b.picture) for a, b in zip(changes[:-1], changes[1:], strict=True)]
    paces = [sequence.even_pace(functools.partial(still, *pair)) for pair in pairs]
    gains = [sequence.steady_gains(functools.partial(spread, *pair)) for pair in pairs]
    shares = sequence.shares(changes, count, music.mix.shape[0], beats, spec.transition, paces)
    recorded = [change.record(fps, names) for change in changes]
    for entry, (before, change) in zip(recorded[1:], zip(changes[:-1], changes[1:], strict=True), strict=True):
        moving = np.flatnonzero(shares[before.frame:change.frame, change.picture] > 0)  # its transition's frames
        entry["transition_from"] = before.frame + int(moving[0]) if moving.size else change.frame
    log.warning("covers: %s", ", ".join(f"{entry['image']} from {entry['time']:.2f} s" for entry in recorded))
    return shares, gains, recorded


def sharpening(prepared: Prepared, ladder: dict[str, Any] | list[dict[str, Any]] | None) -> float | tuple[float, ...]:
    """The :func:`sharpen.amount` of a faithful look's frames (:data:`sharpen.SAMPLES` of them, spread over the
    video) that gives them the cover's fine detail (``ladder``) at the frame's size; 0 for the other looks. A
    sequence of covers has an amount a picture, each from that picture's own frames and its own detail."""
    if not presets.load(prepared.spec.preset).faithful or not ladder:
        return 0.0
    source = prepared.frames()

    def amount(frames: np.ndarray, kept: dict[str, Any]) -> float:
        rows = frames[np.unique(np.linspace(0, frames.size - 1, sharpen.SAMPLES).round().astype(int))]
        return sharpen.amount(np.stack([source.frame(int(k)) for k in rows]),
                              sharpen.cover_energy(kept, prepared.spec.panel_size))

    if prepared.pictures is None or not isinstance(ladder, list):
        return amount(np.arange(source.count), ladder[0] if isinstance(ladder, list) else ladder)
    shown = [np.flatnonzero(prepared.pictures[:, index] == 1.0) for index in range(len(ladder))]
    return tuple(amount(frames, kept) if frames.size else 0.0 for frames, kept in zip(shown, ladder, strict=True))


def song_bank(spec: RenderSpec, learned_too: bool = False) -> FeatureBank:
    """The excerpt's feature bank (from the analysis cache when the song was analysed before: see
    :func:`bank.cached_bank`), with the learned features (``learned.0`` ...) when ``learned_too``: from the spec's
    features model, or the shipped one when z is the mel latents."""
    folder = None if not spec.cache else (Path(spec.cache_dir) if spec.cache_dir else cache_root()) / "analysis"
    bank = cached_bank(spec.song_path, spec.start, spec.duration, spec.frame_rate, folder)  # streamed
    if not learned_too:
        return bank
    audio = load_audio(spec.song_path, start=spec.start, duration=spec.duration)
    model = learned.load("learned" if spec.features == "mel" else spec.features)[0]
    columns = learned.bank_columns(model, audio, spec.frame_rate)
    return bank.with_features(learned.names(model.config.dims), columns)
