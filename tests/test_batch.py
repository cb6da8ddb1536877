"""neuromv batch on a real Ray cluster simulated on this machine: a head with no CPUs and two one-CPU nodes, started
once for the module. Workers are killed, a node is removed and the driver interrupted for real."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # the cluster on loopback only (read at import)

from conftest import ffmpeg_parents  # noqa: E402

from neuromv import probe, read_frames, render  # noqa: E402
from neuromv.batch import FITS, LEDGER, read_manifest, render_batch  # noqa: E402
from neuromv.errors import NeuromvError  # noqa: E402
from neuromv.out.provenance import read as read_tag  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SONG, OTHER, COVER = EXAMPLES / "vibe_ace_30s.ogg", EXAMPLES / "metal_madness_30s.ogg", EXAMPLES / "cover.jpg"

if os.environ.get("NEUROMV_REQUIRE_RAY"):  # CI: fail, not skip, when the cluster extra is missing
    import ray  # noqa: F401
else:
    ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    with socket.socket() as probe_port:  # a free port for the head's Ray Client server (ray://)
        probe_port.bind(("127.0.0.1", 0))
        client_port = probe_port.getsockname()[1]
    simulated = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "node_ip_address": "127.0.0.1",
                                                              "ray_client_server_port": client_port})
    simulated.client_address = f"ray://127.0.0.1:{client_port}"
    for _ in range(2):
        simulated.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    simulated.wait_for_nodes()
    yield simulated
    simulated.shutdown()


def _manifest(folder: Path, lines: list[dict | str]) -> Path:
    path = folder / "catalogue.jsonl"
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def _ledger(out: Path) -> list[dict]:
    return [json.loads(text) for text in (out / LEDGER).read_text().splitlines()]


def _ffmpegs(out: Path) -> dict[int, int]:
    """{pid: parent pid} of the live FFmpeg processes writing under ``out``."""
    return ffmpeg_parents(str(out))


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _frames(video: Path) -> int:
    return read_frames(video, size=(8, 8), gray=True).shape[0]


def _partials(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.endswith((".part", ".partial"))]


def _batch_cli(manifest: Path, out: Path, cluster, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "neuromv", "batch", str(manifest), "--out", str(out), "-q"]
    if cluster is not None:
        command += ["--address", cluster.address]
    return subprocess.Popen(command + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})


def _meddle(manifest: Path, out: Path, cluster, renders: int, action) -> tuple[int, str, dict[int, int]]:
    """Run the batch CLI on ``cluster`` (its jobs classic, whose renders encode at once, where the default look first
    previews the song to scale its latents); once ``renders`` renders run, call ``action`` with the CLI's process and
    their FFmpegs ({pid: the worker's pid}). Returns the exit status, stderr and those FFmpegs."""
    proc = _batch_cli(manifest, out, cluster)
    try:
        deadline = time.monotonic() + 120
        while len(encoders := _ffmpegs(out)) < renders:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"no {renders} renders started within 120 s"
            time.sleep(0.05)
        action(proc, encoders)
        _, stderr = proc.communicate(timeout=300)
    finally:
        proc.kill()
    return proc.returncode, stderr, encoders


# --- the manifest, without Ray --------------------------------------------------------------------------------------

def test_manifest_lines_are_checked_one_by_one(tmp_path):
    (tmp_path / "songs").mkdir()
    song = tmp_path / "songs" / "a.ogg"
    song.write_bytes(SONG.read_bytes())
    manifest = _manifest(tmp_path, [
        "# a comment, then a blank line", "",
        {"song": "songs/a.ogg", "size": 32, "duration": 1},  # relative to the manifest's folder
        {"song": "songs/a.ogg", "size": 32, "duration": 1, "threads": 2},
        {"song": "songs/a.ogg", "output": "/elsewhere/x.mp4"},
        {"song": "songs/a.ogg", "output": "../x.mp4"},
        {"song": "songs/a.ogg", "size": 48, "duration": 1},  # a second a.mp4
        {"song": "songs/a.ogg", "sizee": 48},
        "[1, 2]",
        {"size": 32},
    ])
    jobs, bad = read_manifest(manifest, tmp_path / "out")
    assert [job.line for job in jobs] == [3]
    assert jobs[0].spec.song == str(song) and jobs[0].spec.output == str(tmp_path / "out" / "a.mp4")
    reasons = dict(bad)
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10]
    assert "threads is set by the batch" in reasons[4]
    assert "inside it" in reasons[5] and "inside it" in reasons[6]
    assert "line 3's too" in reasons[7]
    assert "did you mean 'size'" in reasons[8]
    assert "JSON object" in reasons[9] and "no song" in reasons[10]


def test_a_job_is_named_by_its_spec_and_its_inputs_content(tmp_path):
    song = tmp_path / "a.ogg"
    song.write_bytes(SONG.read_bytes())
    lines = [{"song": "a.ogg", "image": str(COVER), "size": 32, "output": "small.mp4"},
             {"song": "a.ogg", "image": str(COVER), "size": 64, "output": "big.mp4"},
             {"song": "a.ogg", "image": str(COVER), "size": 64, "seed": 1, "output": "other.mp4"}]
    jobs, _ = read_manifest(_manifest(tmp_path, lines), tmp_path / "out")
    assert len({job.key for job in jobs}) == 3
    assert jobs[0].fit_key == jobs[1].fit_key != jobs[2].fit_key  # sizes share a fit; another seed does not
    again, _ = read_manifest(_manifest(tmp_path, lines), tmp_path / "out")
    assert [job.key for job in again] == [job.key for job in jobs]
    song.write_bytes(OTHER.read_bytes())  # same name, other music
    changed, _ = read_manifest(_manifest(tmp_path, lines), tmp_path / "out")
    assert not {job.key for job in changed} & {job.key for job in jobs}


def test_a_manifest_line_takes_a_sequence_of_covers_relative_to_its_folder(tmp_path):
    song = tmp_path / "a.ogg"
    song.write_bytes(SONG.read_bytes())
    (tmp_path / "covers").mkdir()
    for name in ("one.jpg", "two.jpg"):
        (tmp_path / "covers" / name).write_bytes(COVER.read_bytes())
    (tmp_path / "covers" / "two.jpg").write_bytes(COVER.read_bytes() + b"\0")  # another file: another hash
    lines = [{"song": "a.ogg", "image": ["covers/one.jpg", "covers/two.jpg"], "size": 32, "output": "a.mp4"},
             {"song": "a.ogg", "image": ["covers/one.jpg", "covers/two.jpg"], "size": 64, "output": "b.mp4"}]
    jobs, bad = read_manifest(_manifest(tmp_path, lines), tmp_path / "out")
    assert not bad and jobs[0].spec.images == (str(tmp_path / "covers" / "one.jpg"),
                                               str(tmp_path / "covers" / "two.jpg"))
    assert jobs[0].fit_key == jobs[1].fit_key is not None  # the sizes share the one network of both covers


def test_a_manifest_that_cannot_be_read_is_one_error(tmp_path):
    with pytest.raises(NeuromvError, match="cannot be read"):
        read_manifest(tmp_path / "missing.jsonl", tmp_path)
    with pytest.raises(NeuromvError, match="no jobs"):
        read_manifest(_manifest(tmp_path, ["", "# nothing"]), tmp_path)


# --- on the cluster ------------------------------------------------------------------------------------------------

def test_a_catalogue_renders_shares_its_fits_and_resumes(cluster, tmp_path):
    out = tmp_path / "videos"
    common = {"song": str(SONG), "image": str(COVER), "duration": 1.5, "steps": 40, "seed": 3}
    manifest = _manifest(tmp_path, [
        {**common, "size": 32, "output": "a-32.mp4"},  # both fitted to the cover's variations, square
        {**common, "size": 64, "output": "sizes/a-64.mp4", "preset": "pulse"},
        {"song": str(OTHER), "size": 32, "duration": 1.5},
    ])
    result = render_batch(manifest, out, address=cluster.address, quiet=True)
    assert (result.done, result.skipped, result.failed) == (3, 0, [])
    for name, size in (("a-32.mp4", (32, 32)), ("sizes/a-64.mp4", (64, 64)), ("metal_madness_30s.mp4", (32, 32))):
        info = probe(out / name)
        assert (info.width, info.height, _frames(out / name)) == (*size, 45)
        assert read_tag(out / name)["spec"]["size"] == f"{size[0]}x{size[1]}"
    assert len(list((out / FITS).glob("*.pt"))) == 1  # the two sizes of one song and cover: one fit
    entries = _ledger(out)
    assert sorted(e["status"] for e in entries) == ["done"] * 3
    assert all(e["seconds"] > 0 and e["node"] and e["peak_mb"] > 0 for e in entries)
    # the shared fit is the fit the job would have made alone: the same frames as a plain render
    alone = render(SONG, tmp_path / "alone.mp4", image=COVER, duration=1.5, steps=40, seed=3, size=32, threads=1,
                   quiet=True)
    assert np.array_equal(read_frames(alone), read_frames(out / "a-32.mp4"))
    assert not _partials(out)
    # a rerun skips every job done, without touching its video
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.mp4")}
    again = render_batch(manifest, out, address=cluster.address, quiet=True)
    assert (again.done, again.skipped, again.failed) == (0, 3, [])
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.mp4")} == stamps
    assert [e["status"] for e in _ledger(out)[3:]] == ["skipped"] * 3
    # a video removed since is rendered again
    (out / "a-32.mp4").unlink()
    third = render_batch(manifest, out, address=cluster.address, quiet=True)
    assert (third.done, third.skipped) == (1, 2) and _frames(out / "a-32.mp4") == 45


def test_bad_lines_fail_alone_at_once_with_their_reasons(cluster, tmp_path):
    out = tmp_path / "videos"
    manifest = _manifest(tmp_path, [
        {"song": str(SONG), "size": 32, "duration": 1, "output": "good-1.mp4"},
        {"song": str(tmp_path / "missing.mp3"), "size": 32},
        {"song": str(OTHER), "size": 32, "duration": 1, "output": "good-2.mp4"},
        {"song": str(SONG), "size": 32, "fps": 0},
    ])
    proc = _batch_cli(manifest, out, cluster)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert "line 2: song" in stderr and "missing.mp3" in stderr and "line 4: fps=0" in stderr
    entries = _ledger(out)
    failed = {e["line"]: e["reason"] for e in entries if e["status"] == "failed"}
    assert sorted(failed) == [2, 4] and "does not exist" in failed[2] and "fps=0" in failed[4]
    assert sorted(e["line"] for e in entries if e["status"] == "done") == [1, 3]
    assert _frames(out / "good-1.mp4") == _frames(out / "good-2.mp4") == 30


def test_a_render_that_fails_by_itself_is_not_retried(cluster, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path / "videos"
    manifest = _manifest(tmp_path, [{"song": str(SONG), "image": str(broken), "size": 32, "duration": 1}])
    started = time.monotonic()
    result = render_batch(manifest, out, address=cluster.address, quiet=True)
    assert result.done == 0 and len(result.failed) == 1 and "broken.jpg" in result.failed[0][1]
    assert time.monotonic() - started < 60 and not _partials(out)


def test_a_killed_worker_is_retried_and_leaves_no_ffmpeg_or_partial_file(cluster, tmp_path):
    out = tmp_path / "videos"
    manifest = _manifest(tmp_path, [{"song": str(SONG), "size": 160, "duration": 10, "output": "long.mp4",
                                     "preset": "classic"}])

    def kill_worker(_, encoders: dict[int, int]) -> None:  # the Ray worker running the render, mid-render
        os.kill(next(iter(encoders.values())), signal.SIGKILL)

    returncode, stderr, encoders = _meddle(manifest, out, cluster, 1, kill_worker)
    (encoder, worker), = encoders.items()
    assert returncode == 0, stderr
    assert encoder not in _ffmpegs(out)  # the killed worker's FFmpeg died with it
    (entry,) = _ledger(out)
    assert entry["status"] == "done" and entry["pid"] != worker
    assert _frames(out / "long.mp4") == 300
    assert not _partials(out) and not _ffmpegs(out)


def test_ctrl_c_cancels_the_renders_and_keeps_what_is_done(cluster, tmp_path):
    out = tmp_path / "videos"
    manifest = _manifest(tmp_path, [{"song": str(SONG), "size": 160, "duration": 10, "output": f"v{i}.mp4",
                                     "preset": "classic"}
                                    for i in range(3)])
    returncode, stderr, encoders = _meddle(manifest, out, cluster, 2,
                                           lambda proc, _: proc.send_signal(signal.SIGINT))
    assert returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not _partials(out)
    deadline = time.monotonic() + 10
    while (_ffmpegs(out) or any(map(_alive, encoders.values()))) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _ffmpegs(out) and not any(map(_alive, encoders.values()))  # the renders' workers were stopped
    entries = _ledger(out) if (out / LEDGER).exists() else []
    assert all(e["status"] == "done" for e in entries) and len(entries) < 3


def test_a_lost_node_s_jobs_complete_elsewhere(cluster, tmp_path):
    out = tmp_path / "videos"
    manifest = _manifest(tmp_path, [{"song": str(SONG), "size": 160, "duration": 12, "output": f"n{i}.mp4",
                                     "preset": "classic"}
                                    for i in range(2)])
    try:  # one render on each node, then the last node is lost
        returncode, stderr, _ = _meddle(manifest, out, cluster, 2,
                                        lambda *_: cluster.remove_node(cluster.list_all_nodes()[-1]))
    finally:
        cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")  # as it was, for any test after this one
    assert returncode == 0, stderr
    entries = _ledger(out)
    assert sorted(e["output"] for e in entries if e["status"] == "done") == ["n0.mp4", "n1.mp4"]
    assert len({e["node"] for e in entries}) == 1  # both finished on the node that is left
    assert all(_frames(out / f"n{i}.mp4") == 360 for i in range(2))
    assert not _partials(out) and not _ffmpegs(out)


def test_a_ray_client_address_works_too(cluster, tmp_path):
    out = tmp_path / "videos"
    manifest = _manifest(tmp_path, [{"song": str(SONG), "size": 32, "duration": 1}])
    result = render_batch(manifest, out, address=cluster.client_address, quiet=True)
    assert result.ok and result.done == 1 and _frames(out / "vibe_ace_30s.mp4") == 30


def test_without_an_address_ray_starts_here_and_stops_after(tmp_path):
    out = tmp_path / "videos"
    manifest = _manifest(tmp_path, [{"song": str(SONG), "size": 32, "duration": 1}])
    proc = _batch_cli(manifest, out, None)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert _frames(out / "vibe_ace_30s.mp4") == 30
    assert [e["status"] for e in _ledger(out)] == ["done"]
