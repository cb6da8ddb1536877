"""The tuning set of the quality work: real songs of several genres from Debian's packages, each license recorded,
so that the look is not tuned on the two examples alone.

    python scripts/tuning_set.py                  # fetch (apt-get download) and unpack the packages; list the tracks
    python scripts/tuning_set.py --corpus DIR     # where they are unpacked (default ~/.cache/neuromv-music)

``benchmarks/bench_quality.py --tuning`` renders these. The genres are the packages' own words (tags, credits, the
copyright file): nothing here was judged by ear.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from train_features import unpack

DEFAULT_CORPUS = Path.home() / ".cache" / "neuromv-music"
WESNOTH = "usr/share/games/wesnoth/1.16/data/core/music"
#: name -> (genre, package, the track inside the unpacked package, license of the music as its copyright file says).
TUNING = {
    "chaos_god": ("death metal, dense (Muldjord)", "fretsonfire-songs-muldjord",
                  "usr/share/games/fretsonfire/data/songs/muldjord/chaos_god/song.ogg", "CC BY-SA 3.0"),
    "fear": ("metal with vocals (Obsidian Shell)", "marsshooter-data",
             "usr/share/games/marsshooter/audio/music/03_fear.ogg", "CC BY-SA 3.0"),
    "dangerous_symphony": ("orchestral, dense", "wesnoth-1.16-music", f"{WESNOTH}/the_dangerous_symphony.ogg",
                           "GPL-2+"),
    "love_theme": ("orchestral, soft", "wesnoth-1.16-music", f"{WESNOTH}/love_theme.ogg", "GPL-2+"),
    "morning": ("an orchestra's recording, soft (Grieg, Peer Gynt: Morning)", "unknown-horizons",
                "usr/share/unknown-horizons/content/audio/music/Peer Gynt Suite No. 1, Op. 46 - I. Morning.ogg",
                "CC BY-SA 3.0"),
    "psymong": ("electronic (Psymong)", "ufoai-music", "music/music/PsymongN1.ogg", "GPL-2"),
    "ave_maria": ("acoustic: solo cello, recorded", "freedink-data", "usr/share/games/dink/dink/Sound/1.ogg",
                  "CC BY-SA 3.0 Unported"),
    "minstrels": ("folk-like, sampled instruments", "wesnoth-1.16-music", f"{WESNOTH}/traveling_minstrels.ogg",
                  "GPL-2+"),
}


def tracks(corpus: Path = DEFAULT_CORPUS) -> dict[str, Path]:
    """name -> the unpacked track (each package fetched and unpacked once)."""
    return {name: unpack(corpus, package) / where for name, (_, package, where, _) in TUNING.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    for name, path in tracks(args.corpus).items():
        genre, package, _, license_ = TUNING[name]
        print(f"{name:20} {genre:60} {package:28} {license_:22} {'ok' if path.is_file() else 'MISSING'}")


if __name__ == "__main__":
    main()
