"""The rational tanh of the fused head (neuromv/network/head.cpp): tanh(x) ~ x P(x^2) / Q(x^2) on |x| <= LIMIT.

    python scripts/fit_tanh.py            # prints each degree pair's error and coefficients; head.cpp uses (4, 4)

A minimax fit of neuromv's own: Sanathanan-Koerner iterations (the linearised problem x P - tanh(x) (Q - 1) = tanh(x)
weighted by 1 / Q of the last round) for the least-squares fit, then Lawson's reweighting by the error towards the
minimax one. The error is checked as the kernel computes it, in float32 with Horner's rule, over |x| <= LIMIT + 1
with the input clamped to the limit (beyond it tanh is 1 to float precision).
"""

from __future__ import annotations

import numpy as np

LIMIT = 9.0
PAIRS = ((3, 3), (4, 3), (3, 4), (4, 4), (5, 4))


def fit(p_degree: int, q_degree: int, limit: float = LIMIT, rounds: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """(P's coefficients in x^2, lowest first; Q's, lowest first, Q(0) = 1) of the fit on [0, limit] (tanh is odd)."""
    x = np.linspace(0.0, limit, 20000)
    s, target = x * x, np.tanh(x)
    weight, q = np.ones_like(x), np.ones_like(x)
    p, qs = np.zeros(p_degree + 1), np.ones(q_degree + 1)
    for round_ in range(rounds):
        design = np.concatenate([x[:, None] * s[:, None] ** np.arange(p_degree + 1),
                                 -target[:, None] * s[:, None] ** np.arange(1, q_degree + 1)], axis=1)
        scale = np.sqrt(weight) / q
        coefficients, *_ = np.linalg.lstsq(design * scale[:, None], target * scale, rcond=None)
        p, qs = coefficients[:p_degree + 1], np.concatenate([[1.0], coefficients[p_degree + 1:]])
        q = np.polyval(qs[::-1], s)
        error = x * np.polyval(p[::-1], s) / q - target
        if round_ > 10:  # Lawson: weight where the error is large
            weight = weight * np.abs(error)
            weight /= weight.sum()
    return p, qs


def float32_error(p: np.ndarray, qs: np.ndarray, limit: float = LIMIT) -> float:
    """The largest |fit - tanh| as the kernel computes it: float32, Horner's rule, the input clamped to ``limit``."""
    x = np.linspace(-limit - 1, limit + 1, 2_000_001).astype(np.float32)
    clamped = np.clip(x, -limit, limit).astype(np.float32)
    s = clamped * clamped
    top, bottom = np.zeros_like(s), np.zeros_like(s)
    for a in p[::-1].astype(np.float32):
        top = top * s + a
    for a in qs[::-1].astype(np.float32):
        bottom = bottom * s + a
    return float(np.abs((clamped * top / bottom).astype(np.float64) - np.tanh(x.astype(np.float64))).max())


def main() -> None:
    for p_degree, q_degree in PAIRS:
        p, qs = fit(p_degree, q_degree)
        print(f"P degree {p_degree}, Q degree {q_degree}: float32 error {float32_error(p, qs):.2e}")
        print(f"  P {p.astype(np.float32).tolist()}")
        print(f"  Q {qs.astype(np.float32).tolist()}")


if __name__ == "__main__":
    main()
