"""The one atomic write every writer uses: a whole output or none, under one naming scheme."""

from __future__ import annotations

import pytest

from neuromv.io.files import Partial, partial_files, sweep_partial_files, write_atomically


def test_a_file_is_renamed_into_place_whole_and_a_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "model.pt"
    write_atomically(target, lambda path: path.write_text("old"))
    with pytest.raises(RuntimeError), Partial(target) as partial:
        partial.temporary.write_text("half")
        raise RuntimeError("the disk filled up")
    assert target.read_text() == "old" and partial_files(target) == []


def test_a_folder_replaces_the_old_one_only_when_whole(tmp_path):
    target = tmp_path / "site"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with Partial(target, folder=True) as partial:
        (partial.temporary / "new.txt").write_text("new")
        assert (target / "old.txt").is_file()  # still the old one while the new is written
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert partial_files(target) == []


def test_a_locked_partial_file_is_left_alone_and_an_abandoned_one_swept(tmp_path):
    target = tmp_path / "out.mp4"
    running = Partial(target, lock=True)
    abandoned = target.with_name(f".{target.name}.1-deadbeef.partial")
    abandoned.write_bytes(b"x")
    assert sweep_partial_files(target) == [abandoned]
    assert partial_files(target) == [running.temporary]
    running.discard()
    assert partial_files(target) == []
