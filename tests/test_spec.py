"""The render spec: one value for the CLI, the API, JSON files and the video's record; ``--like`` and ``info``."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest

import neuromv
from neuromv.cli import _parser, main
from neuromv.spec import RenderSpec, fields, flag, options_table

OPTIONS_DOC = Path(__file__).resolve().parent.parent / "docs" / "options.md"


def test_every_field_has_a_flag_and_a_keyword():
    flags = {option: action.dest for action in _render_actions() for option in action.option_strings}
    positionals = {action.dest for action in _render_actions() if not action.option_strings}
    keywords = inspect.signature(neuromv.render).parameters
    for spec_field in fields():
        if spec_field.name == "song":
            assert "song" in positionals
        else:
            assert flags.get(flag(spec_field)) == spec_field.name, spec_field.name
        assert spec_field.name in keywords and keywords[spec_field.name].default == spec_field.default
    spec_flags = {action.dest for action in _render_actions()} - {"help", "spec_file", "like", "dump_spec"}
    assert spec_flags == {spec_field.name for spec_field in fields()}  # and no flag that is not a field


def _render_actions():
    commands = next(a for a in _parser()._actions if a.dest == "command")
    return commands.choices["render"]._actions


def test_options_doc_table_is_the_specs():
    text = OPTIONS_DOC.read_text(encoding="utf-8")
    table = re.search(r"<!-- options: begin.*?-->\n(.*?)\n<!-- options: end -->", text, re.DOTALL)
    assert table is not None, "docs/options.md's options table must sit between the options markers"
    assert table.group(1) == options_table(), "regenerate it: python -c 'import neuromv.spec as s; " \
                                              "print(s.options_table())'"
    listed = re.findall(r"^\| `(?:-\w, )?(--[\w-]+|SONG)`", table.group(1), re.MULTILINE)
    assert listed == [flag(spec_field) for spec_field in fields()]


def test_json_round_trips_exactly():
    spec = RenderSpec(song="a.mp3", image=Path("covers/a.jpg"), size=(1280, 720), fps=29.97, seed=3, start=2,
                      duration=10.5, hidden=48, latent_dim=32, steps=100, lr=0.003, motion=1.25, crf=20,
                      x264_preset="slow", stems=4, separator="demucs", layout="grid", labels=True, cache=False,
                      threads=2, batch_size=16, overwrite=True, quiet=True)
    assert (spec.image, spec.size, spec.fps, spec.start) == ("covers/a.jpg", "1280x720", "30000/1001", 2.0)
    again = RenderSpec.from_json(spec.to_json())
    assert again == spec and again.to_json() == spec.to_json()
    assert RenderSpec.from_json(RenderSpec().to_json()) == RenderSpec()
    assert spec.replace(seed=4).seed == 4 and spec.seed == 3  # frozen: replace makes a new one


@pytest.mark.parametrize("options, message", [
    ({"motoin": 3}, "unknown option 'motoin' (did you mean 'motion'?)"),
    ({"sise": "64x64"}, "unknown option 'sise' (did you mean 'size'?)"),
    ({"seed": "3"}, "seed='3' must be a whole number, not str"),
    ({"steps": 2.5}, "steps=2.5 must be a whole number, not float"),
    ({"labels": 1}, "labels=1 must be true or false, not int"),
    ({"motion": 99}, "motion=99.0 must be a number of gray levels per frame from 0 to 50"),
    ({"crf": 60}, "crf=60 must be a whole number from 0 (lossless) to 51"),
    ({"size": "33x17"}, "must be even for H.264 (yuv420p); try 34x18"),
    ({"fps": 0}, "fps=0 must be a positive number"),
    ({"stems": 3}, "stems=3 is not one of [2, 4, 5]"),
    ({"separator": "demux"}, "separator='demux' is not one of ['auto', 'spleeter', 'demucs', 'hpss'] (did you mean "
                             "'demucs'?)"),
    ({"stems": 4, "separator": "hpss"}, "hpss"),
    ({"image": "a.jpg", "model": "m.pt"}, "image and model cannot be used together"),
    ({"preset": "veryfast"}, "preset='veryfast' is an x264 speed: use --x264-preset veryfast"),
    ({"preset": "pulsee"}, "preset='pulsee' is not one of ['breathe', 'chords', 'classic'"),
])
def test_bad_values_name_the_field_and_what_is_valid(options, message):
    with pytest.raises(neuromv.OptionError) as caught:
        RenderSpec.from_dict(options)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(neuromv.OptionError):  # the API's keywords go through the same checks
        neuromv.render("song.wav", **options)


def test_cli_flags_build_the_same_spec_as_keywords(tmp_path, capsys):
    assert main(["render", "s.wav", "--size", "64x48", "--fps", "25", "--seed", "3", "--no-cache", "--stems", "2",
                 "--x264-preset", "fast", "--threads", "1", "--dump-spec"]) == 0
    dumped = RenderSpec.from_json(capsys.readouterr().out)
    expected = RenderSpec(song="s.wav", size="64x48", fps=25, seed=3, cache=False, stems=2, x264_preset="fast",
                          threads=1)
    assert dumped == neuromv.resolve(expected)
    assert (dumped.hidden, dumped.latent_dim, dumped.layout, dumped.panels) == (32, 64, "row", "own")
    path = tmp_path / "s.json"
    path.write_text(dumped.to_json())
    assert main(["render", "--spec", str(path), "--seed", "9", "--dump-spec"]) == 0  # a flag given overrides the file
    assert RenderSpec.from_json(capsys.readouterr().out) == dumped.replace(seed=9)


def test_size_defaults_to_the_covers_aspect(cover, capsys):
    assert main(["render", "s.wav", "--image", str(cover), "--dump-spec"]) == 0
    assert json.loads(capsys.readouterr().out)["size"] == "512x426"  # the 48x40 cover, 512 on the long side


def test_x264_speed_under_the_old_name_gets_a_hint(capsys):
    assert main(["render", "s.wav", "--preset", "ultrafast", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--x264-preset ultrafast" in err


def test_render_takes_a_spec_and_keywords(tmp_path, song):
    spec = RenderSpec(size="32x32", seed=4, quiet=True, duration=1.0)
    out = neuromv.render(song, tmp_path / "a.mp4", spec=spec, fps=24)
    tag = neuromv.probe(out).metadata
    assert (tag["spec"]["seed"], tag["spec"]["fps"], tag["spec"]["size"]) == (4, "24", "32x32")
    assert tag["made"]["frames"] == 24 and tag["neuromv"] == neuromv.__version__
    with pytest.raises(neuromv.OptionError, match="no song given"):
        neuromv.render(spec=spec)


def test_frame_k_is_a_pure_function_of_k(song):
    latents = neuromv.mel_latents(neuromv.load_audio(song), 30)
    net = neuromv.build(neuromv.CPPNConfig(), seed=2)
    source = neuromv.FrameSource([(net, latents)], 40, 24, batch_size=7)
    every = np.concatenate(list(source.batches()))
    assert every.shape == (latents.shape[0], 24, 40, 3)
    for k in (0, 1, 44, every.shape[0] - 1):  # alone, in another batch, from another start
        assert np.array_equal(source.frame(k), every[k])
    assert np.array_equal(source.draw(41, 5).numpy(), every[41:46])
    with pytest.raises(neuromv.OptionError, match="frame 90 is not in 0..89"):
        source.frame(90)


# --- the record in the video, --like and info -----------------------------------------------------------------

RECORDED = ["--seed", "5", "--size", "40x32", "--fps", "24", "--hidden", "24", "--latent-dim", "32", "--motion",
            "1.5", "--steps", "40", "--duration", "2"]


def test_like_renders_the_same_video_again(tmp_path, song, cover, capsys, no_ffmpeg_left):
    first, again, bigger = tmp_path / "first.mp4", tmp_path / "again.mp4", tmp_path / "bigger.mp4"
    assert main(["render", str(song), "--image", str(cover), *RECORDED, "-o", str(first), "-q"]) == 0
    assert main(["render", str(song), "--like", str(first), "--image", str(cover), "-o", str(again), "-q"]) == 0
    assert np.array_equal(neuromv.read_frames(first), neuromv.read_frames(again))
    assert main(["render", str(song), "--like", str(first), "--image", str(cover), "--size", "80x64", "-o",
                 str(bigger), "-q"]) == 0
    assert capsys.readouterr().err == ""
    a, b = neuromv.probe(first).metadata, neuromv.probe(bigger).metadata
    assert b["spec"]["size"] == "80x64" and neuromv.probe(bigger).width == 80
    assert {k: v for k, v in a["spec"].items() if k != "size"} == {k: v for k, v in b["spec"].items() if k != "size"}
    assert a["spec"]["seed"] == 5 and a["spec"]["motion"] == 1.5 and a["image_sha256"] == b["image_sha256"]


def test_like_finds_the_cover_beside_the_video_and_warns_when_it_changed(tmp_path, song, cover, capsys):
    first = tmp_path / "first.mp4"  # beside cover.png
    assert main(["render", str(song), "--image", str(cover), "--size", "32x32", "--steps", "5", "--duration", "1",
                 "-o", str(first), "-q"]) == 0
    assert main(["render", str(song), "--like", str(first), "-o", str(tmp_path / "b.mp4"), "-q"]) == 0
    assert neuromv.probe(tmp_path / "b.mp4").metadata["spec"]["image"] == "cover.png"
    other = tmp_path / "other.png"
    other.write_bytes(cover.read_bytes())
    from PIL import Image
    Image.new("RGB", (48, 40), (200, 10, 10)).save(other)
    assert main(["render", str(song), "--like", str(first), "--image", str(other), "-o", str(tmp_path / "c.mp4"),
                 "-q"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "image" in err and "not the one" in err and "frames will differ" in err


def test_info_prints_the_record(tmp_path, song, capsys):
    video = neuromv.render(song, tmp_path / "v.mp4", size="32x32", seed=8, duration=1.0, quiet=True)
    assert main(["info", str(video)]) == 0
    text = capsys.readouterr().out
    assert f"made by neuromv {neuromv.__version__} on cpu, 30 frames" in text and re.search(r"seed\s+8", text)
    assert main(["info", str(video), "--json"]) == 0
    tag = json.loads(capsys.readouterr().out)
    assert RenderSpec.from_dict(tag["spec"]).seed == 8 and "output" not in tag["spec"]  # local fields left out
    assert tag["spec"]["song"] == "song.wav"  # a name, not the maker's folders


def _plain_video(path: Path) -> Path:
    with neuromv.VideoWriter(path, 16, 16, neuromv.as_fps(30)) as writer:
        writer.write(np.zeros((3, 16, 16, 3), np.uint8))
    return path


@pytest.mark.parametrize("case", ["unknown key", "wrong type", "out of range", "not JSON", "not an object",
                                  "unreadable spec", "untagged video", "not a video", "spec and like"])
def test_bad_specs(tmp_path, song, capsys, case, no_ffmpeg_left):
    spec = tmp_path / "spec.json"
    texts = {"unknown key": '{"motoin": 3}', "wrong type": '{"seed": "three"}', "out of range": '{"crf": 99}',
             "not JSON": '{"seed": 3,', "not an object": "[1, 2]"}
    if case in texts:
        spec.write_text(texts[case])
    args = {"unreadable spec": ["--spec", str(tmp_path / "nope.json")],
            "untagged video": ["--like", str(_plain_video(tmp_path / "plain.mp4"))],
            "not a video": ["--like", str(song)],
            "spec and like": ["--spec", str(spec), "--like", str(song)]}.get(case, ["--spec", str(spec)])
    status = 1 if case in ("unreadable spec", "not a video") else 2
    message = {"unknown key": "did you mean 'motion'?", "wrong type": "seed='three' must be a whole number",
               "out of range": "crf=99 must be a whole number from 0", "not JSON": "is not JSON",
               "not an object": "must be a JSON object", "unreadable spec": "nope.json' cannot be read",
               "untagged video": "has no neuromv tag", "not a video": "has no readable video stream",
               "spec and like": "cannot be used together"}[case]
    before = set(tmp_path.rglob("*"))
    code = main(["render", str(song), *args, "-o", str(tmp_path / "out.mp4"), "-q"])
    err = capsys.readouterr().err
    assert code == status, err
    assert err.count("\n") == 1 and "Traceback" not in err and message in err, err
    assert set(tmp_path.rglob("*")) == before
    if case == "untagged video":
        assert main(["info", args[1]]) == 2 and "has no neuromv tag" in capsys.readouterr().err
