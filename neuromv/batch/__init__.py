"""``neuromv batch``: a catalogue of renders on Ray (:mod:`.cluster`, the one module that imports Ray), from a manifest
and into a ledger (:mod:`.manifest`)."""

from .cluster import BatchResult, render_batch
from .manifest import FITS, LEDGER, Job, Ledger, read_manifest

__all__ = ["BatchResult", "FITS", "Job", "LEDGER", "Ledger", "read_manifest", "render_batch"]
