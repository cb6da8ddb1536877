"""Train the learned-features model that ships with neuromv (``neuromv/music/models/features.pt``) on free music from
Debian's packages, holding out whole packages for the figures of ``benchmarks/bench_features.py``.

    python scripts/train_features.py                  # fetch the packages (apt-get download), unpack, train
    python scripts/train_features.py --corpus DIR     # where the packages are unpacked (default ~/.cache/...)

Every package, its genre and its license are listed in :data:`TRAINING` and :data:`HELD_OUT` (and in docs/features.md).
Nothing is downloaded at run time of neuromv itself: this script is how the shipped weights were made.
"""

from __future__ import annotations

import argparse
import subprocess
import zipfile
from pathlib import Path

from neuromv.music.learned import train

#: package -> (genre, license, where its music lies inside the package).
TRAINING = {
    "asc-music": ("orchestral and rock game music", "GPL-2+", "usr/share/games/asc/music"),
    "drascula-music": ("adventure-game soundtrack: jazz, tango, orchestral", "Drascula licence (free redistribution)",
                       "usr/share/scummvm/drascula/audio"),
    "nexuiz-music": ("electronic, industrial and metal", "GPL-2+", "music"),  # unpacked from data/music.pk3
    "hyperrogue-music": ("ambient and orchestral", "GPL-2+", "usr/share/hyperrogue/music"),
}
HELD_OUT = {
    "singularity-music": ("electronic and ambient (Max McCracken)", "CC BY-SA 3.0", "usr/share/games/singularity/music"),
}
SHIPPED = Path(__file__).resolve().parent.parent / "neuromv" / "music" / "models" / "features.pt"


def unpack(corpus: Path, package: str) -> Path:
    """``corpus/<package>``: the package fetched with apt-get download and unpacked (once)."""
    target = corpus / package
    if not (target / ".complete").is_file():
        debs = corpus / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        if not list(debs.glob(f"{package}_*.deb")):
            subprocess.run(["apt-get", "download", package], cwd=debs, check=True)
        subprocess.run(["dpkg-deb", "-x", str(next(debs.glob(f"{package}_*.deb"))), str(target)], check=True)
        for pk3 in target.glob("usr/share/games/*/*/*music.pk3"):  # nexuiz and ufoai keep their tracks in a zip
            with zipfile.ZipFile(pk3) as archive:
                archive.extractall(target / "music", [n for n in archive.namelist() if n.endswith(".ogg")])
        (target / ".complete").touch()
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path.home() / ".cache" / "neuromv-music")
    parser.add_argument("--output", type=Path, default=SHIPPED)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    folders = [unpack(args.corpus, package) / where for package, (_, _, where) in TRAINING.items()]
    for package in HELD_OUT:
        unpack(args.corpus, package)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result = train(folders, args.output, epochs=args.epochs, seed=args.seed, max_seconds=240.0)
    size = args.output.stat().st_size
    print(f"{args.output}: {len(result.songs)} songs, {len(result.held_out)} held out within the training packages; "
          f"held-out loss {result.held_out_loss[-1]:.4f}, training {result.seconds:.0f} s, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
