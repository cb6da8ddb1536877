"""Make a tiny random-weight Spleeter 2-stem model with Spleeter's own model code (run with Spleeter's Python).

    SPLEETER_PYTHON tests/spleeter_random_model.py MODEL_PATH [--full]

Writes MODEL_PATH/tiny-2stems.json (Spleeter's 2stems config shrunk through its own keys: F, T and the U-Net's
conv_n_filters) and MODEL_PATH/tiny-2stems/ (a TensorFlow checkpoint of the graph Spleeter builds for prediction,
and the .probe file that tells Spleeter the model is in place). With --full: random-2stems.json and a checkpoint of
the real 2stems model's size (for timing separation, benchmarks/bench_stems.py).
"""

import json
import os
import sys


def main(model_path: str, full: bool = False) -> None:
    model_path = os.path.abspath(model_path)
    os.makedirs(model_path, exist_ok=True)
    os.environ["MODEL_PATH"] = model_path  # read by spleeter when imported
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf
    from spleeter.model import InputProviderFactory, model_fn
    from spleeter.model.provider import ModelProvider
    from spleeter.utils.configuration import load_configuration

    params = dict(load_configuration("spleeter:2stems"))
    name = "random-2stems" if full else "tiny-2stems"
    params["model_dir"] = name
    if not full:
        params.update(F=256, T=128, model={"type": "unet.unet", "params": {"conv_n_filters": [2, 4, 8, 16, 32, 64]}})
    with open(os.path.join(model_path, f"{name}.json"), "w") as f:
        json.dump(params, f, indent=2)
    folder = os.path.join(model_path, name)
    os.makedirs(folder, exist_ok=True)

    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.train.get_or_create_global_step()  # the Estimator restores it too
        features = InputProviderFactory.get(dict(params, model_dir=folder)).get_input_dict_placeholders()
        model_fn(features, None, tf.estimator.ModeKeys.PREDICT, dict(params, model_dir=folder, MWF=False))
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            # Spleeter seeds every layer alike, so both instruments would be identical: draw each kernel anew.
            rng = np.random.default_rng(0)
            for variable in tf.compat.v1.trainable_variables():
                if variable.name.endswith("kernel:0"):
                    shape = variable.shape.as_list()
                    limit = float(np.sqrt(6.0 / max(1, int(np.prod(shape[:-1])))))
                    variable.load(rng.uniform(-limit, limit, size=shape).astype(np.float32), session)
            tf.compat.v1.train.Saver().save(session, os.path.join(folder, "model"))
    ModelProvider.writeProbe(folder)


if __name__ == "__main__":
    main(sys.argv[1], full="--full" in sys.argv[2:])
