"""Latents -> uint8 frames, in batches on the chosen device.

The CPPN's coordinate term is computed once per frame size; each batch adds its frames' latent terms and runs the
rest of the network over pixel chunks small enough to stay in cache (on a CPU) or one chunk per frame (on a GPU).
On a CPU every look but classic runs the rest of the network as one compiled loop (:mod:`network.fused`), over
coordinate terms packed a tile of pixels at a time. Frames are converted to uint8 on the device and only then
copied to the host.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import math
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait

import numpy as np
import torch

from .errors import OptionError
from .io.heap import bound_heap
from .look.effects import Light, Warp, colour_matrices
from .look.presets import COLOURS, LIGHTS, WARPS, ParamTracks
from .look.sharpen import sharpen
from .network.cppn import CPPN, coordinate_grid, cpu_tanh, mix, shown_pictures
from .network.fused import LANES, fused_head, pack
from .spec import DEVICES, LAYOUTS, PRECISIONS, check_batch_size, check_threads

#: Rows (frames x pixels) per network evaluation on a CPU: activations stay in cache (with ops split across the cores,
#: 105 frames/s at 256x256 against 70 with 32K rows on a 2-core AMD EPYC; on the render threads of a 2-core Xeon,
#: 16K-64K rows ran alike and 4K-8K 5-15 % slower).
CPU_CHUNK_ROWS = 16384
#: Frames per batch on a CPU.
CPU_BATCH = 8

def pick_device(device: str | torch.device | None = "auto") -> torch.device:
    """``auto``/``None``: CUDA, then MPS, then the CPU. An explicit device must be available."""
    name = str(device or "auto")
    kind = name.split(":")[0]
    if kind not in DEVICES:
        raise OptionError(f"device={name!r} is not one of {list(DEVICES)}")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise OptionError(f"device={name!r} is not available here (torch {torch.__version__} sees no CUDA GPU); "
                          "use --device cpu or auto")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise OptionError(f"device={name!r} is not available here (no Apple GPU); use --device cpu or auto")
    return torch.device(name)


def default_batch_size(device: torch.device, width: int, height: int, hidden: int) -> int:
    """Frames per batch: a few on a CPU; on a GPU as many as a quarter of the free memory holds."""
    if device.type != "cuda":
        return CPU_BATCH
    free, _ = torch.cuda.mem_get_info(device)
    per_frame = width * height * hidden * 4 * 3  # three live float32 activations of [pixels, hidden]
    return int(max(1, min(256, free // 4 // per_frame)))


def pick_precision(precision: str | None, device: torch.device) -> torch.dtype:
    """The dtype the hidden layers run in. ``auto`` is float32: on a 2-core AVX512-BF16 CPU bfloat16 was no faster
    than float32 with the sigmoid-based tanh and moved edges (mean 2.3, max 204 gray levels); on GPUs the lower
    precisions are offered but not yet measured."""
    name = precision or "auto"
    if name not in PRECISIONS:
        raise OptionError(f"precision={name!r} is not one of {list(PRECISIONS)}")
    return torch.float32 if name == "auto" else getattr(torch, name)


@contextlib.contextmanager
def cpu_threads(threads: int | None) -> Iterator[None]:
    """torch's CPU thread count (the render threads, fitting, Demucs) set to ``threads`` for the block and restored
    after; ``None`` leaves it as it is (torch's default: one per core)."""
    check_threads(threads)
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def _workers(device: torch.device) -> Iterator[tuple[ThreadPoolExecutor, int] | None]:
    """On a CPU: a pool of render threads, as many as torch's thread count (and that number), each running its ops
    on one thread: torch's count is set to 1 for the duration and restored after. On a GPU: None (batches run in
    order on the calling thread, the GPU working asynchronously).

    Whole batches on threads of their own need no barrier between cores: when the encoder takes a slice of a core,
    one batch waits and the others go on. When every op is split across the cores instead, the other core spins at
    each op's barrier (2-core Xeon, 256x256 end to end: 0.7 ms less CPU per frame; render-only is unchanged).
    """
    threads = torch.get_num_threads()
    if device.type != "cpu":
        yield None
        return
    with cpu_threads(1):
        pool = ThreadPoolExecutor(threads, thread_name_prefix="neuromv-render")
        try:
            yield pool, threads
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # running batches end before the thread count comes back


def _spans(count: int, batch: int, threads: int) -> list[tuple[int, int]]:
    """(first, size) of each batch for ``threads`` render threads: ``batch`` frames each, but the last ``2 * threads``
    batches' frames go in quarter batches, so that the threads finish close together instead of one drawing the last
    batch alone (8 frames at 256x256 take a thread 90 ms)."""
    tail = 0 if threads == 1 else min(count, 2 * threads * batch)
    small = max(1, batch // 4)
    spans = [(first, min(batch, count - tail - first)) for first in range(0, count - tail, batch)]
    return spans + [(first, min(small, count - first)) for first in range(count - tail, count, small)]


def _in_order(draw: Callable[[int, int], torch.Tensor], count: int, batch: int,
              device: torch.device) -> Iterator[torch.Tensor]:
    """``draw(first, size)`` over the batches of ``count`` frames, in order: on the calling thread, or on the render
    threads of :func:`_workers` with one batch per thread in flight and one more ready (bounded memory)."""
    with _workers(device) as workers:
        pool, threads = workers or (None, 1)
        spans = _spans(count, batch, threads)
        if pool is None:
            for span in spans:
                yield draw(*span)
            return
        pending: collections.deque[Future[torch.Tensor]] = collections.deque()
        try:
            for span in spans:
                pending.append(pool.submit(draw, *span))
                if len(pending) > threads:
                    yield _oldest(pending)
            while pending:
                yield _oldest(pending)
        finally:
            _drain(pending)


def _oldest(pending: collections.deque[Future[torch.Tensor]]) -> torch.Tensor:
    """The oldest batch, waited for and only then taken off ``pending``, so that :func:`_drain` sees every batch that
    may still be running."""
    out = pending[0].result()
    pending.popleft()
    return out


def _drain(pending: Sequence[Future[torch.Tensor]]) -> None:
    """Cancel the batches not yet started and wait for the running ones, through any further Ctrl-C (the last one is
    raised again after). A render thread still inside a torch op when Python exits aborts the process: a second Ctrl-C
    during the clean-up did that. Waiting on the batches rather than joining the threads also keeps clear of
    ``Thread.join``, which a Ctrl-C can leave believing a running thread has ended (CPython 3.11)."""
    for future in pending:
        future.cancel()
    interrupt: KeyboardInterrupt | None = None
    while True:
        try:
            wait(pending)
            break
        except KeyboardInterrupt as exc:
            interrupt = exc
    if interrupt is not None:
        raise interrupt


@torch.inference_mode()
def latent_terms(model: CPPN, latents: np.ndarray) -> torch.Tensor:
    """float32 [frames, hidden] on the host: every frame's latent term at once (128 bytes a frame at hidden 32), as
    the renderer and the web player add them. At once, because a product's rounding changes when it has fewer than 3
    rows: a frame drawn in a batch of 1 or 2 would differ from the same frame in a larger batch, and the network's
    chaos made that visible."""
    host = model if next(model.parameters()).device.type == "cpu" else copy.deepcopy(model).cpu()
    return host.latent_term(torch.from_numpy(np.ascontiguousarray(latents, dtype=np.float32)))


def _runs(rows: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of equal rows of ``rows`` ([n] or [n, k]), in order."""
    changed = rows[1:] != rows[:-1]
    cuts = [0, *(np.flatnonzero(changed if changed.ndim == 1 else changed.any(axis=1)) + 1), rows.shape[0]]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


class _Drawer:
    """One CPPN ready to draw ``width`` x ``height`` frames from ``latents``: its coordinate term computed once;
    ``drawer(first, size)`` renders latent rows ``first .. first + size`` as a uint8 [size, height, width, 3] tensor on
    the device (with ``pictures``, each frame's shares of the pictures the network holds). ``fused``: on a CPU in
    float32, draw with the compiled head (:mod:`network.fused`) where it is available. Safe to call from several
    threads at once."""

    def __init__(self, model: CPPN, latents: np.ndarray, width: int, height: int, device: torch.device,
                 dtype: torch.dtype, params: ParamTracks | None = None, pictures: np.ndarray | None = None,
                 fused: bool = False):
        if latents.ndim != 2 or latents.shape[1] != model.config.latent_dim:
            raise OptionError(f"latents of shape {list(latents.shape)} do not fit a CPPN with "
                              f"latent_dim={model.config.latent_dim}")
        if pictures is not None and pictures.shape != (latents.shape[0], model.config.pictures):
            raise OptionError(f"picture shares of shape {list(pictures.shape)} do not fit {latents.shape[0]} frames "
                              f"of a CPPN that holds {model.config.pictures} pictures")
        host = copy.deepcopy(model).cpu().eval()  # float32: the first layer's terms
        self.latent_terms = latent_terms(host, latents)
        self.pictures = None if pictures is None or model.config.pictures == 1 else pictures
        if params is not None and "latent_gain" in params.names:  # the latent term is linear in z
            self.latent_terms = self.latent_terms * torch.from_numpy(params["latent_gain"])[:, None]
        self.model = host.to(device)
        self.head = (copy.deepcopy(self.model).to(dtype) if dtype != torch.float32 else self.model).head
        self.fused = fused_head(host) if fused and device.type == "cpu" and dtype == torch.float32 else None
        self.width, self.height, self.device, self.dtype = width, height, device, dtype
        self.warp = Warp(self.model, params, width, height, device, dtype, self.pictures) \
            if params and params.moves(WARPS) else None
        self.colour = torch.from_numpy(colour_matrices(params)).to(device) if params and params.moves(COLOURS) \
            else None  # [frames, 4, 3]
        self.light = Light(params, width, height, device) if params and params.moves(LIGHTS) else None
        self._own: dict[int, torch.Tensor] = {}  # each picture's [P, hidden] coordinate terms, when nothing warps
        if self.warp is None:
            with torch.inference_mode():
                grid = coordinate_grid(width, height, device)
                for index in shown_pictures(self.pictures):
                    picture = None if self.pictures is None else torch.eye(model.config.pictures)[index]
                    terms = self.model.coord_term(grid, picture=picture).to(dtype)
                    self._own[index] = terms if self.fused is None else pack(terms)
        self._local = threading.local()  # each thread's scratch

    def _coord_term(self, k: int) -> torch.Tensor:
        """[P, hidden] (packed, for the fused head): frame ``k``'s coordinate terms when nothing warps: its picture's,
        computed once per size, or on the way from one picture to the next the pictures' terms mixed in its shares
        (elementwise, so that the frame is the same on any number of threads)."""
        if self.pictures is None:
            return self._own[0]
        shares = self.pictures[k]
        if shares.max() == 1.0:
            return self._own[int(shares.argmax())]
        return mix(self._own, shares)

    def _scratch(self, rows: int) -> torch.Tensor:
        """This thread's [2, rows, hidden] buffer for the hidden layers' activations, kept from batch to batch."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None or scratch.shape[1] < rows:
            scratch = torch.empty((2, rows, self.model.config.hidden), dtype=self.dtype, device=self.device)
            self._local.scratch = scratch
        return scratch

    @torch.inference_mode()
    def __call__(self, first: int, size: int) -> torch.Tensor:
        if self.warp is not None:  # each frame samples the picture at its own coordinates: one frame at a time
            packed = self.fused is not None
            return torch.cat([self._draw(self.warp(k, packed), k, 1) for k in range(first, first + size)])
        if self.pictures is None:
            return self._draw(self._coord_term(first), first, size)
        # a picture's frames together, a change's one by one
        return torch.cat([self._draw(self._coord_term(first + a), first + a, b - a)
                          for a, b in _runs(self.pictures[first:first + size])])

    def _draw(self, coord_term: torch.Tensor, first: int, size: int) -> torch.Tensor:
        """Frames ``first .. first + size`` over the [pixels, hidden] ``coord_term`` (packed for the fused head):
        uint8 [size, H, W, 3]."""
        latent_term = self.latent_terms[first:first + size].to(self.device, self.dtype)  # [b, hidden]
        pixels, hidden = self.width * self.height, self.model.config.hidden
        out = torch.empty((size, pixels, 3), dtype=torch.uint8, device=self.device)
        chunk = max(1, CPU_CHUNK_ROWS // size) if self.device.type == "cpu" else pixels
        if self.fused is not None:  # whole tiles
            chunk = max(LANES, chunk - chunk % LANES)
        scratch = self._scratch(size * min(chunk, pixels))
        colour = None if self.colour is None else self.colour[first:first + size]  # [b, 4, 3]
        for start in range(0, pixels, chunk):
            count = min(chunk, pixels - start)
            rows = size * count
            if self.fused is not None:
                rgb = scratch[0].view(-1)[:rows * 3].view(size, count, 3)
                self.fused(coord_term, latent_term, start, count, rgb)
            else:
                first_layer = torch.add(coord_term[None, start:start + chunk], latent_term[:, None],
                                        out=scratch[0, :rows].view(size, -1, hidden))  # [b, chunk, hidden]
                rgb = self.head(first_layer, spare=scratch[1, :rows]).float()  # [b, chunk, 3]
            if colour is not None:  # [b, chunk, 3] @ [b, 3, 3] + [b, 1, 3]
                rgb = torch.baddbmm(colour[:, 3:], rgb, colour[:, :3]).clamp_(0.0, 1.0)
            if self.light is not None:
                rgb = self.light(rgb, first, start)
            out[:, start:start + chunk] = rgb.mul_(255.0).add_(0.5).to(torch.uint8)
        return out.view(size, self.height, self.width, 3)


def _device_and_dtype(device: torch.device | str, batch_size: int | None,
                      precision: str | None) -> tuple[torch.device, torch.dtype]:
    """The render's device and the hidden layers' dtype, checked, with the heap policy and the CPU's tanh probe set."""
    device = pick_device(device)
    check_batch_size(batch_size)
    dtype = pick_precision(precision, device)
    bound_heap()
    if device.type == "cpu":
        cpu_tanh()  # the probe, here rather than inside a render thread's first tanh
    return device, dtype


def panel_grid(count: int, layout: str) -> tuple[int, int]:
    """(columns, rows) of ``count`` panels: ``row`` puts them side by side, ``grid`` as square as it goes."""
    if layout not in LAYOUTS:
        raise OptionError(f"layout={layout!r} is not one of {list(LAYOUTS)}")
    if layout == "row":
        return count, 1
    columns = math.ceil(math.sqrt(count))
    return columns, math.ceil(count / columns)


def label_overlay(names: Sequence[str], width: int, height: int, columns: int, rows: int) -> np.ndarray:
    """float32 [rows * height, columns * width, 4]: each panel's name, white on a soft shadow, as RGB + alpha."""
    from PIL import Image, ImageDraw, ImageFont

    canvas = Image.new("RGBA", (columns * width, rows * height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    size = max(10, min(width, height) // 14)
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        font = ImageFont.load_default()
    for index, name in enumerate(names):
        x, y = (index % columns) * width + size // 2, (index // columns) * height + size // 3
        draw.text((x + 1, y + 1), name, font=font, fill=(0, 0, 0, 200))
        draw.text((x, y), name, font=font, fill=(255, 255, 255, 255))
    return np.asarray(canvas, dtype=np.float32) / 255.0


def sharpen_amounts(amount: float | Sequence[float], pictures: np.ndarray | None) -> float | np.ndarray:
    """The sharpening of every frame: one amount, or with a sequence of covers' ``pictures`` shares ([frames,
    pictures]) and an amount a picture (``amount``), float32 [frames]: each frame's mix of them (a picture's own
    frames its own, exactly)."""
    if isinstance(amount, (int, float)):
        return float(amount)
    amounts = np.asarray(amount, np.float32)
    if pictures is None or amounts.shape != (pictures.shape[1],):
        raise OptionError(f"{len(amounts)} sharpening amounts do not fit "
                          f"{'one picture' if pictures is None else f'{pictures.shape[1]} pictures'}")
    whole = pictures.max(axis=1) == 1.0
    mixed = (pictures @ amounts).astype(np.float32)
    return np.where(whole, amounts[pictures.argmax(axis=1)], mixed).astype(np.float32)


class FrameSource:
    """The frames of a video, frame k a pure function of k: its latent rows (one per panel), the networks and the
    frame size; never of the batch it is drawn in, the frame drawing started at or the order.

    ``panels``: (CPPN, float32 latents [frames, latent_dim]) per panel, every latents with the same number of rows,
    composed on the device in a :func:`panel_grid` of ``layout``, each ``width`` x ``height``, ``labels`` (a name per
    panel) at each panel's top left. One panel without labels is the network's frame itself. ``params``: a preset's
    parameter tracks (row k for frame k), applied to every panel; None: classic. ``pictures``: with networks that
    hold several pictures, float32 [frames, pictures], how much of each picture's code frame k has (row k; every
    panel follows it). ``sharpen``: the amount of :func:`detail.sharpen` applied to the whole frame last (0: none);
    with ``pictures``, one amount a picture, frame k's the mix of them in its shares. ``fused``: draw the network
    with the compiled head on a CPU (:mod:`network.fused`, within 1 gray level of torch's; torch's where it is not
    available); by default with a preset's ``params`` only, so that classic's frames stay torch's, bit for bit.
    """

    def __init__(self, panels: Sequence[tuple[CPPN, np.ndarray]], width: int, height: int, *, layout: str = "row",
                 labels: Sequence[str] | None = None, device: torch.device | str = "cpu",
                 batch_size: int | None = None, precision: str | None = "auto", params: ParamTracks | None = None,
                 pictures: np.ndarray | None = None, sharpen: float | Sequence[float] = 0.0,
                 fused: bool | None = None):
        self.device, dtype = _device_and_dtype(device, batch_size, precision)
        self.sharpen = sharpen_amounts(sharpen, pictures)
        counts = {latents.shape[0] for _, latents in panels}
        if len(counts) != 1:
            raise OptionError(f"panels have different numbers of frames: {sorted(counts)}")
        self.count = counts.pop()
        self.columns, self.rows = panel_grid(len(panels), layout)
        self.panel_width, self.panel_height = width, height
        self.width, self.height = self.columns * width, self.rows * height
        self.batch = batch_size or default_batch_size(self.device, width * len(panels), height,
                                                      panels[0][0].config.hidden)
        self._overlay = None
        if labels is not None:
            self._overlay = torch.from_numpy(label_overlay(labels, width, height, self.columns, self.rows)).to(
                self.device)
        if params is not None and params.values.shape[0] != self.count:
            raise OptionError(f"parameter tracks of {params.values.shape[0]} frames do not fit {self.count} frames")
        fused = params is not None if fused is None else fused
        self._drawers = [_Drawer(model, latents, width, height, self.device, dtype, params, pictures, fused)
                         for model, latents in panels]

    @torch.inference_mode()
    def draw(self, first: int, size: int) -> torch.Tensor:
        """Frames ``first .. first + size`` as uint8 [size, height, width, 3] on the device. Safe from several
        threads at once."""
        frames = self._composed(first, size)
        if isinstance(self.sharpen, float):
            return sharpen(frames, self.sharpen)
        amounts = self.sharpen[first:first + size]
        return torch.cat([sharpen(frames[a:b], float(amounts[a])) for a, b in _runs(amounts)])

    def _composed(self, first: int, size: int) -> torch.Tensor:
        """:meth:`draw` before the sharpening: the panels and their labels."""
        if len(self._drawers) == 1 and self._overlay is None:
            return self._drawers[0](first, size)
        width, height = self.panel_width, self.panel_height
        canvas = torch.zeros((size, self.height, self.width, 3), dtype=torch.uint8, device=self.device)
        for index, drawer in enumerate(self._drawers):
            top, left = (index // self.columns) * height, (index % self.columns) * width
            canvas[:, top:top + height, left:left + width] = drawer(first, size)
        if self._overlay is None:
            return canvas
        alpha = self._overlay[None, :, :, 3:]  # [1, H, W, 1]
        mixed = canvas.float().mul_(1 - alpha).add_(self._overlay[None, :, :, :3] * alpha * 255.0)
        return mixed.add_(0.5).to(torch.uint8)

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` alone: uint8 [height, width, 3]."""
        if not 0 <= index < self.count:
            raise OptionError(f"frame {index} is not in 0..{self.count - 1}")
        return self.draw(index, 1)[0].cpu().numpy()

    def batches(self) -> Generator[np.ndarray, None, None]:
        """Every frame in order, as uint8 [b, height, width, 3] host batches (``b`` up to the batch size). On a CPU
        batches are drawn by as many threads as torch's thread count (see :func:`cpu_threads`), and torch runs
        single-threaded ops until the generator is exhausted or closed (see :func:`_workers`)."""
        for out in _in_order(self.draw, self.count, self.batch, self.device):
            yield out.cpu().numpy()


def frames(model: CPPN, latents: np.ndarray, width: int, height: int, *, device: torch.device | str = "cpu",
           batch_size: int | None = None, precision: str | None = "auto") -> Iterator[np.ndarray]:
    """Yield uint8 [b, height, width, 3] batches, one frame per latent row, in order: the frames of one network.

    ``latents``: float32 [frames, latent_dim], kept on the host; one batch at a time goes to ``device``.
    ``precision``: the dtype the hidden layers run in (see :func:`pick_precision`); the first layer's terms are
    computed in float32 and the colours converted to uint8 in float32. ``model`` itself is left as it is.
    """
    yield from FrameSource([(model, latents)], width, height, device=device, batch_size=batch_size,
                           precision=precision).batches()


def panel_frames(panels: Sequence[tuple[CPPN, np.ndarray]], width: int, height: int, *, layout: str = "row",
                 labels: Sequence[str] | None = None, device: torch.device | str = "cpu",
                 batch_size: int | None = None, precision: str | None = "auto") -> Iterator[np.ndarray]:
    """Several panels, each a CPPN with its own latents, composed into one frame per latent row (see
    :class:`FrameSource`): uint8 [b, rows * height, columns * width, 3] batches."""
    yield from FrameSource(panels, width, height, layout=layout, labels=labels, device=device,
                           batch_size=batch_size, precision=precision).batches()
