"""``neuromv`` on the command line: argument parsing only; every command calls the public API.

Option names equal the API's keyword names. User errors print one line to stderr and exit 2 (bad arguments) or
1 (a run that failed); a traceback means a bug.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, TypeAlias

from . import __version__
from .errors import NeuromvError, OptionError
from .spec import GROUPS, RenderSpec, base_type, flag, grouped, shown_default


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_spec_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`RenderSpec` field (name, type, default and help from the field), in its group. Flags
    that are not given stay out of the namespace, so ``--like`` and ``--spec`` can tell them apart."""
    for group, members in grouped():
        target = parser.add_argument_group(group, GROUPS[group])
        for spec_field in members:
            meta, kind = spec_field.metadata, base_type(spec_field)
            if spec_field.name == "song":  # given here, or by --spec
                target.add_argument("song", nargs="?", metavar=meta["metavar"], default=argparse.SUPPRESS,
                                    help=meta["help"])
                continue
            options: dict[str, Any] = dict(default=argparse.SUPPRESS,
                                              help=f"{meta['help']} (default: {shown_default(spec_field)})")
            if kind is bool and spec_field.default is None:  # on, off, or left to the inputs
                options["action"] = argparse.BooleanOptionalAction
            elif kind is bool:
                options["action"] = "store_false" if spec_field.default else "store_true"
            else:
                options["type"] = str if spec_field.name in ("size", "fps") else kind  # both take "WxH", "29.97"
                choices = "{" + ",".join(map(str, meta["choices"])) + "}" if meta["choices"] else None
                options["metavar"] = meta["metavar"] or choices
                if spec_field.name == "image":  # repeatable: a sequence of covers
                    options["action"] = "append"
            names = [name for name in (meta["short"], flag(spec_field)) if name]
            target.add_argument(*names, dest=spec_field.name, **options)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="neuromv", description="Turn a song into a music video that pulses with it.")
    parser.add_argument("--version", action="version", version=f"neuromv {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _render_commands(commands)
    _batch_commands(commands)
    _feature_commands(commands)
    _video_commands(commands)
    return parser


Commands: TypeAlias = "argparse._SubParsersAction[_Parser]"


def _render_commands(commands: Commands) -> None:
    """render, export-web and play: every option of the render spec."""
    r = commands.add_parser("render", help="render a song to an MP4",
                            description="Render a music video: a CPPN driven by the song's mel spectrogram, "
                                        "optionally fit to a cover image, muxed with the song.")
    _add_spec_flags(r)
    spec = r.add_argument_group("spec", "start from a saved spec or another video's, and see the result")
    spec.add_argument("--spec", dest="spec_file", metavar="FILE",
                      help="read the options from a JSON spec (written by --dump-spec); flags given override it")
    spec.add_argument("--like", metavar="VIDEO",
                      help="every option VIDEO (an MP4 neuromv made) was rendered with, except the flags given")
    spec.add_argument("--dump-spec", action="store_true", help="print the resolved spec as JSON and exit")

    w = commands.add_parser("export-web", help="write a static folder that plays the video in a browser",
                            description="The browser player, the networks, the latents, the presets and the song as "
                                        "a folder for any static web host (-o: the folder; default SONG-web).")
    _add_spec_flags(w)
    p = commands.add_parser("play", help="play the video live in the browser, on a local page",
                            description="Export to the cache, serve it on 127.0.0.1 and open the browser; Ctrl-C "
                                        "stops. Takes every option of render.")
    _add_spec_flags(p)
    served = p.add_argument_group("server")
    served.add_argument("--port", type=int, default=0, help="the port on 127.0.0.1 (default: a free one)")
    served.add_argument("--no-browser", dest="browser", action="store_false", help="print the address only")


def _batch_commands(commands: Commands) -> None:
    """batch: a catalogue on Ray."""
    b = commands.add_parser("batch", help="render a catalogue (a JSON Lines manifest) on Ray, resumably",
                            description="Render every line of MANIFEST (one JSON object a line, with render's option "
                                        "names) into --out on Ray: started here, or the cluster at --address. Every "
                                        "outcome goes to OUT/results.jsonl; a rerun skips the jobs done. Exit 0 only "
                                        "when every job is done.")
    b.add_argument("manifest", help="the manifest (.jsonl); relative paths in it are from its folder")
    b.add_argument("--out", required=True, help="the output folder (outputs are relative to it)")
    b.add_argument("--address", help="an existing Ray cluster: HOST:PORT or ray://HOST:10001 (default: start Ray "
                                     "on this machine's cores)")
    b.add_argument("--cpus-per-job", type=int, default=1, help="CPUs (and render threads) per job; a job also gets "
                                                                "a GPU where the cluster has them (default 1)")
    b.add_argument("--retries", type=int, default=3, help="retries of a job whose worker or node died (default 3)")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _feature_commands(commands: Commands) -> None:
    """train-features and features: the learned features and the feature bank."""
    t = commands.add_parser("train-features", help="train an autoencoder of the songs' spectra (--features FILE)",
                            description="Train the learned features: an autoencoder over log-mel windows centred on "
                                        "each video frame. Whole songs are held out for the held-out loss.")
    t.add_argument("sources", nargs="+", metavar="SONG_OR_FOLDER", help="songs, and folders searched for songs")
    t.add_argument("-o", "--output", required=True, help="the model file to write (.pt)")
    t.add_argument("--dims", type=int, default=10, help="K, the learned features per frame (default 10)")
    t.add_argument("--epochs", type=int, default=40, help="passes over the training windows (default 40)")
    t.add_argument("--seed", type=int, default=0, help="seeds the hold-out choice, the weights and the order")
    t.add_argument("--max-seconds", type=float, default=600.0, help="seconds of each song used (default 600)")
    t.add_argument("-y", "--overwrite", action="store_true", help="replace an existing model file")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

    f = commands.add_parser("features", help="write a song's feature bank (or a preset's parameter tracks) as a table",
                            description="The audio features presets map, one row per video frame, each in [0, 1].")
    f.add_argument("song", help="the song")
    f.add_argument("--fps", default="30", help="frames per second of the grid (default 30)")
    f.add_argument("--start", type=float, default=0.0, help="start of the excerpt in seconds (default 0)")
    f.add_argument("--duration", type=float, help="length of the excerpt in seconds (default: to the end)")
    f.add_argument("--preset", help="with --tracks: the preset whose parameter tracks to write")
    f.add_argument("--features", default="mel", metavar="mel|learned|FILE",
                   help="learned or a features model: add its features (learned.0 ...) to the bank")
    f.add_argument("--tracks", action="store_true", help="write the preset's parameter tracks instead")
    form = f.add_mutually_exclusive_group()
    form.add_argument("--csv", action="store_true", help="CSV (the default)")
    form.add_argument("--json", action="store_true", help="JSON")
    f.add_argument("-o", "--output", help="the file to write (default: standard output)")


def _video_commands(commands: Commands) -> None:
    """presets, info and score: what there is to choose and what a video holds."""
    commands.add_parser("presets", help="list the built-in presets", description="The built-in presets.")

    i = commands.add_parser("info", help="print how a video neuromv made was rendered",
                            description="The render spec, versions and input hashes recorded in a neuromv MP4.")
    i.add_argument("video", help="the video")
    i.add_argument("--json", action="store_true", help="print the whole record as JSON")

    s = commands.add_parser("score", help="measure how a video follows its music and resembles its cover",
                            description="Reactivity (onset strength vs visual change), sync lag, motion and, with "
                                        "--image, fidelity (PSNR/SSIM) of a video.")
    s.add_argument("video", help="the video to score")
    s.add_argument("--audio", help="the song (default: the video's own audio track)")
    s.add_argument("--image", help="the cover, for PSNR and SSIM")
    s.add_argument("--latents", action="store_true",
                   help="also the latent share, the latents-only motion and their first component's share: the "
                        "video rendered again from its record (with its cover or saved model beside it, or --image; "
                        "a cover is fitted again)")
    s.add_argument("--json", action="store_true", help="print the figures as JSON")


def _spec(args: dict[str, Any]) -> RenderSpec:
    """The spec of ``neuromv render``: the flags given, over ``--like``'s or ``--spec``'s, over the defaults."""
    spec_file, like = args.pop("spec_file", None), args.pop("like", None)
    if spec_file is not None and like is not None:
        raise OptionError("--spec and --like cannot be used together; pick one to start from")
    if like is not None:
        from .out.provenance import like as like_video

        return like_video(str(like), **args)
    base = RenderSpec.from_file(str(spec_file)) if spec_file is not None else RenderSpec()
    return base.replace(**args)


def _render(args: dict[str, Any]) -> None:
    from .api import render
    from .prepared import resolve

    dump = args.pop("dump_spec")
    _log_to_stderr(quiet=bool(args.get("quiet")))
    spec = _spec(args)
    _log_to_stderr(quiet=spec.quiet)
    if dump:
        print(resolve(spec).to_json())
        return
    path = render(spec=spec)
    if not spec.quiet:
        print(path)


def _export_web(args: dict[str, Any]) -> None:
    from .out.web import export_web

    _log_to_stderr(quiet=bool(args.get("quiet")))
    spec = RenderSpec().replace(**args)
    folder = export_web(spec=spec)
    if not spec.quiet:
        print(folder)


def _play(args: dict[str, Any]) -> None:
    from .out.server import play

    port, browser = args.pop("port"), args.pop("browser")
    _log_to_stderr(quiet=bool(args.get("quiet")))
    try:
        play(spec=RenderSpec().replace(**args), port=port, browser=browser)
    except KeyboardInterrupt:  # the way to stop the server
        print("neuromv: stopped", file=sys.stderr)


def _batch(args: dict[str, Any]) -> int:
    from .batch import LEDGER, render_batch

    _log_to_stderr(quiet=False)  # a failed line is said whatever -q
    out = str(args["out"])
    try:
        result = render_batch(str(args["manifest"]), out, address=args["address"],
                              cpus_per_job=args["cpus_per_job"], retries=args["retries"],
                              quiet=bool(args["quiet"]))
    except KeyboardInterrupt:
        print(f"neuromv: batch interrupted: the videos done and {os.path.join(out, LEDGER)} are kept, the running "
              "renders cancelled; run it again to resume", file=sys.stderr)
        return 130
    if not args["quiet"]:
        print(f"neuromv: {result.done} done, {result.skipped} skipped (done before), {len(result.failed)} failed; "
              f"ledger: {os.path.join(out, LEDGER)}", file=sys.stderr)
    return 0 if result.ok else 1


def _features(args: dict[str, Any]) -> None:
    from .look import presets
    from .music.bank import table
    from .prepared import song_bank

    if args["tracks"] and not args["preset"]:
        raise OptionError("--tracks needs --preset NAME|FILE: the preset whose parameters to write")
    spec = RenderSpec(song=args["song"], fps=args["fps"], start=args["start"], duration=args["duration"],
                      preset=args["preset"] or "classic", features=args["features"])  # the same checks as a render's
    wanted = spec.features != "mel" or bool(presets.learned_features(presets.load(spec.preset)))
    bank = song_bank(spec, learned_too=wanted)
    if args["tracks"]:
        tracks = presets.tracks(presets.load(spec.preset), bank)
        text = table(tracks.names, tracks.values, bank.fps, as_json=bool(args["json"]))
    else:
        text = table(bank.names, bank.values, bank.fps, as_json=bool(args["json"]))
    if args["output"]:
        from .io.files import check_output, write_atomically

        write_atomically(check_output(str(args["output"]), overwrite=True), lambda path: path.write_text(text))
    else:
        sys.stdout.write(text)


def _train_features(args: dict[str, Any]) -> None:
    from .io.files import check_output
    from .music.learned import train

    _log_to_stderr(quiet=bool(args["quiet"]))
    output = check_output(str(args["output"]), overwrite=bool(args["overwrite"]))
    result = train(args["sources"], output, dims=args["dims"], epochs=args["epochs"], seed=args["seed"],
                   max_seconds=args["max_seconds"], progress=not args["quiet"])
    if not args["quiet"]:
        print(f"{result.path}: {len(result.songs)} songs ({len(result.held_out)} held out), held-out loss "
              f"{result.held_out_loss[-1]:.4f}, {result.seconds:.0f} s")


def _presets() -> None:
    from .look.presets import built_in

    for name, preset in built_in().items():
        print(f"{name:14} {preset.description}")


def _info(video: str, as_json: bool) -> None:
    from .out.provenance import read

    tag = read(video)
    if as_json:
        print(json.dumps(tag, indent=2))
        return
    made = tag["made"]
    print(f"{video}: made by neuromv {tag['neuromv']} on {made['device']}, {made['frames']} frames "
          f"({made['duration']:g} s), {made['encoder']} {made['x264_preset']}")
    for name, value in tag["spec"].items():
        digest = tag.get(f"{name}_sha256")
        digests = ", ".join(d[:16] for d in digest) if isinstance(digest, list) else digest[:16] if digest else ""
        print(f"  {name:16} {json.dumps(value)}" + (f"  (sha256 {digests})" if digests else ""))
    for change in made.get("pictures") or []:
        print(f"  {change['image']} from {change['time']:.2f} s (frame {change['frame']})")


def _print_score(figures: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures))
        return
    for name, value in figures.items():
        if value is not None:
            print(f"{name:16} {value:.4g}" if isinstance(value, float) else f"{name:16} {value}")


#: The signals that stop a run: Ctrl-C, and SIGTERM (cleaned up exactly like Ctrl-C).
_STOPS = (signal.SIGINT, signal.SIGTERM)


def _stopped(signum: int, frame: object) -> None:
    # the clean-up that follows (render threads, FFmpeg, the partial file) runs to its end, and so does the exit:
    # main() leaves these ignored once a stop has come
    for stop in _STOPS:
        signal.signal(stop, signal.SIG_IGN)
    raise KeyboardInterrupt


class _Notices(logging.Handler):
    """The library's notices (which separator ran, a warning) as "neuromv: ..." lines on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"neuromv: {record.getMessage()}", file=sys.stderr)


def _log_to_stderr(quiet: bool) -> None:
    """Show the library's notices; only its warnings with ``quiet``."""
    logger = logging.getLogger("neuromv")
    if not any(isinstance(handler, _Notices) for handler in logger.handlers):
        logger.addHandler(_Notices())
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = vars(_parser().parse_args(argv))
    command = args.pop("command")
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {stop: signal.signal(stop, _stopped) for stop in _STOPS} if in_main_thread else {}
    try:
        if command == "render":
            _render(args)
        elif command == "export-web":
            _export_web(args)
        elif command == "play":
            _play(args)
        elif command == "batch":
            return _batch(args)
        elif command == "train-features":
            _train_features(args)
        elif command == "features":
            _features(args)
        elif command == "presets":
            _presets()
        elif command == "info":
            _info(args["video"], args["json"])
        elif command == "score":
            from .scoring import score

            as_json = args.pop("json")
            _print_score(score(**args).as_dict(), as_json)
    except NeuromvError as exc:
        print(f"neuromv: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("neuromv: interrupted; no output written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of stdout went away (`neuromv info v.mp4 | head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        if all(signal.getsignal(stop) is _stopped for stop in previous):  # no stop came: as they were
            for stop, handler in previous.items():
                signal.signal(stop, handler)
    return 0
