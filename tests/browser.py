"""Debian's Chromium driven by Playwright, for the tests that run in a real browser."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Set by CI (.ci/run installs both): a missing browser there is a failure, not a skip.
BROWSER_REQUIRED = os.environ.get("NEUROMV_REQUIRE_BROWSER") == "1"
#: WebGL2 through SwiftShader on a machine without a GPU, no network chatter of the browser's own.
ARGS = ["--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--no-sandbox",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--autoplay-policy=no-user-gesture-required"]


def need_browser() -> None:
    """Skip without Debian's chromium or Playwright, unless the browser is required (CI): then fail."""
    missing = [name for name, there in (("chromium", CHROMIUM), ("playwright", importlib.util.find_spec("playwright")))
               if there is None]
    if missing:
        message = f"needs {' and '.join(missing)} (apt install chromium; pip install playwright)"
        if BROWSER_REQUIRED:
            pytest.fail(message)
        pytest.skip(message)


def launch(playwright):  # noqa: ANN001, ANN201 (Playwright's own types)
    """Chromium, headless, with WebGL2."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
