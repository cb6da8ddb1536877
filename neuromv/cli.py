"""``neuromv`` on the command line: argument parsing only; every command calls the public API.

Option names equal the API's keyword names. User errors print one line to stderr and exit 2 (bad arguments) or
1 (a run that failed); a traceback means a bug.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from . import __version__
from .errors import NeuromvError
from .fit import FitConfig
from .render import DEVICES, LAYOUTS, PRECISIONS
from .stems import SEPARATORS
from .video import DEFAULT_CRF, DEFAULT_PRESET, ENCODERS, PRESETS


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="neuromv", description="Turn a song into a music video that pulses with it.")
    parser.add_argument("--version", action="version", version=f"neuromv {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = commands.add_parser("render", help="render a song to an MP4",
                            description="Render a music video: a CPPN driven by the song's mel spectrogram, "
                                        "optionally fit to a cover image, muxed with the song.")
    r.add_argument("audio", help="the song: mp3, wav, flac, ogg, m4a, opus, or a video with an audio track")
    r.add_argument("-o", "--output", help="the MP4 to write (default: the song's path with .mp4)")
    r.add_argument("--image", help="cover image to fit the network to (JPEG, PNG, WebP, ...)")
    r.add_argument("--size", help="frame size WxH, both even (default: 512 on the long side, cover's aspect)")
    r.add_argument("--fps", default="30", help="frames per second, e.g. 24, 25, 29.97, 30, 60 (default 30)")
    r.add_argument("--seed", type=int, default=0, help="seed of the network and fitting (default 0)")
    r.add_argument("--start", type=float, default=0.0, help="start of the excerpt in seconds (default 0)")
    r.add_argument("--duration", type=float, help="length of the excerpt in seconds (default: to the end)")
    r.add_argument("--device", default="auto", choices=DEVICES, help="where to run the network (default auto)")
    r.add_argument("--batch-size", type=int, help="frames per batch (default: chosen for the device)")
    r.add_argument("--threads", type=int, help="CPU threads for rendering, fitting and Demucs (default: one per core); "
                                               "give each of several renders at once its share")
    r.add_argument("--hidden", type=int, help="hidden-layer width (default 32)")
    r.add_argument("--latent-dim", type=int, help="mel bins = latent size (default 64)")
    r.add_argument("--steps", type=int, default=FitConfig.steps,
                   help=f"fitting steps with --image (default {FitConfig.steps})")
    r.add_argument("--lr", type=float, default=FitConfig.lr, help=f"fitting learning rate (default {FitConfig.lr})")
    r.add_argument("--motion", type=float, default=FitConfig.motion,
                   help="fidelity vs motion when fitting: about the gray levels of change per frame to keep "
                        f"(0 = most faithful, nearly still; default {FitConfig.motion:g})")
    r.add_argument("--save-model", help="write the (fitted) network and its config to this file")
    r.add_argument("--model", help="render from a network written by --save-model (no refitting)")
    r.add_argument("--crf", type=int, default=DEFAULT_CRF, help=f"x264 quality, 0-51, lower is better "
                                                               f"(default {DEFAULT_CRF})")
    r.add_argument("--preset", default=DEFAULT_PRESET, choices=PRESETS,
                   help=f"x264 speed preset (default {DEFAULT_PRESET}: ultrafast when rendering on the CPU, "
                        "veryfast on a GPU)")
    r.add_argument("--encoder", default="auto", choices=ENCODERS,
                   help="video encoder: auto = NVENC when rendering on a CUDA GPU that has it, else libx264")
    r.add_argument("--precision", default="auto", choices=PRECISIONS,
                   help="network dtype for the hidden layers (auto = float32)")
    stems = r.add_argument_group("stems", "split the song and give each stem its own panel")
    stems.add_argument("--stems", type=int, choices=(2, 4, 5),
                       help="2 = vocals | accompaniment, 4 = vocals, drums, bass, other, 5 = + piano")
    stems.add_argument("--separator", default="auto", choices=SEPARATORS,
                       help="auto (demucs, then spleeter, then hpss), spleeter, demucs, or hpss (built in: "
                            "harmonic | percussive, no model)")
    stems.add_argument("--layout", choices=LAYOUTS, help="row (default for 2) or grid (default for 4 and 5)")
    stems.add_argument("--labels", action="store_true", help="write each stem's name on its panel")
    stems.add_argument("--panels", choices=("shared", "own"),
                       help="one network for all panels (default with --image) or one each (default without)")
    stems.add_argument("--no-cache", dest="cache", action="store_false", help="separate again, ignore the cache")
    stems.add_argument("--cache-dir", help="where separations are cached (default ~/.cache/neuromv/stems)")
    stems.add_argument("--spleeter-python", help="the Python of Spleeter's own environment "
                                                 "(default NEUROMV_SPLEETER_PYTHON, or a spleeter command on PATH)")
    stems.add_argument("--spleeter-config", help="a Spleeter config other than spleeter:<stems>stems")
    stems.add_argument("--demucs-model", default="htdemucs", help="Demucs model name (default htdemucs)")
    stems.add_argument("--demucs-repo", help="a local folder of Demucs models")
    r.add_argument("-y", "--overwrite", action="store_true", help="replace an existing output file")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

    s = commands.add_parser("score", help="measure how a video follows its music and resembles its cover",
                            description="Reactivity (onset strength vs visual change), sync lag, motion and, with "
                                        "--image, fidelity (PSNR/SSIM) of a video.")
    s.add_argument("video", help="the video to score")
    s.add_argument("--audio", help="the song (default: the video's own audio track)")
    s.add_argument("--image", help="the cover, for PSNR and SSIM")
    s.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser


def _print_score(figures: dict[str, object], as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures))
        return
    for name, value in figures.items():
        if value is not None:
            print(f"{name:12} {value:.4g}" if isinstance(value, float) else f"{name:12} {value}")


#: The signals that stop a run: Ctrl-C, and SIGTERM (cleaned up exactly like Ctrl-C).
_STOPS = (signal.SIGINT, signal.SIGTERM)


def _stopped(signum: int, frame: object) -> None:
    for stop in _STOPS:  # the clean-up that follows (render threads, FFmpeg, the partial file) runs to its end
        signal.signal(stop, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = vars(_parser().parse_args(argv))
    command = args.pop("command")
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {stop: signal.signal(stop, _stopped) for stop in _STOPS} if in_main_thread else {}
    try:
        if command == "render":
            from .pipeline import render

            if not args["quiet"]:  # the library's notices (which separator ran, ...) as "neuromv: ..." lines
                handler = logging.StreamHandler(sys.stderr)
                handler.setFormatter(logging.Formatter("neuromv: %(message)s"))
                logging.getLogger("neuromv").addHandler(handler)
                logging.getLogger("neuromv").setLevel(logging.INFO)
            path = render(**args)
            if not args["quiet"]:
                print(path)
        elif command == "score":
            from .score import score

            as_json = args.pop("json")
            _print_score(score(**args).as_dict(), as_json)
    except NeuromvError as exc:
        print(f"neuromv: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("neuromv: interrupted; no output written", file=sys.stderr)
        return 130
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)
    return 0
