"""Run Spleeter on a waveform. Imported by neuromv when Spleeter is importable, and otherwise run as a script by the
Python of Spleeter's own environment (Spleeter 2.4 needs Python < 3.12, TensorFlow 2.12 and numpy < 2):

    SPLEETER_PYTHON spleeter_driver.py '{"config": "spleeter:2stems", "input": "mix.npy", "output": "DIR"}'

This file imports nothing from neuromv. Input: float32 [n, 2] at 44.1 kHz in ``mix.npy``; output: ``DIR/<stem>.npy``
for each of the model's instruments. A failure the user can fix prints ``neuromv-spleeter: <one line>`` on stderr and
exits 3.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys

RELEASES = "https://github.com/deezer/spleeter/releases/download/v1.4.0"


class ModelMissing(Exception):
    """The model is not in MODEL_PATH and could not be downloaded."""


def model_folder(config: str) -> tuple[str, str, list]:
    """(model folder, model name, instrument names) for a Spleeter config (``spleeter:2stems`` or a JSON path)."""
    from spleeter.model.provider import ModelProvider
    from spleeter.utils.configuration import load_configuration

    params = load_configuration(config)
    name = params["model_dir"]
    folder = name if os.path.isabs(name) else os.path.join(ModelProvider.DEFAULT_MODEL_PATH, name)
    return folder, name, list(params["instrument_list"])


def ensure_model(config: str) -> list:
    """Make sure the model's checkpoint is on disk (downloading it if Spleeter can); returns the instruments."""
    from spleeter.model.provider import ModelProvider

    folder, name, instruments = model_folder(config)
    if not os.path.isfile(os.path.join(folder, "checkpoint")):
        with contextlib.suppress(Exception):  # no network, or no such release: say how to fill MODEL_PATH
            ModelProvider.default().get(name)
    if not os.path.isfile(os.path.join(folder, "checkpoint")):  # an empty folder would run untrained weights
        root = os.path.abspath(ModelProvider.DEFAULT_MODEL_PATH)
        raise ModelMissing(
            f"Spleeter model {os.path.basename(name)!r} is not in MODEL_PATH={root} and could not be downloaded; "
            f"download {RELEASES}/{os.path.basename(name)}.tar.gz and unpack it into {os.path.abspath(folder)} "
            "(or set MODEL_PATH to a folder that has it)")
    return instruments


def separate(config: str, waveform):
    """``waveform``: float32 [n, 2] at 44.1 kHz -> {instrument: float32 [n, 2]}."""
    import numpy as np
    from spleeter.separator import Separator

    ensure_model(config)
    separator = Separator(config, multiprocess=False)
    return {name: np.asarray(part, dtype=np.float32) for name, part in separator.separate(waveform).items()}


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    job = json.loads(sys.argv[1])
    import numpy as np

    try:
        stems = separate(job["config"], np.load(job["input"]))
    except ModelMissing as exc:
        print(f"neuromv-spleeter: {exc}", file=sys.stderr)
        return 3
    for name, part in stems.items():
        np.save(os.path.join(job["output"], f"{name}.npy"), part)
    return 0


if __name__ == "__main__":
    sys.exit(main())
