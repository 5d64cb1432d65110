"""Synthetic raw data for retail_ml: a simulated online shop's landing zone.

`python -m retail_ml.generate --help` for the CLI; `generate()` for in-process use. The
model of the world is described in docs/generator.md, the output in docs/raw_data_contract.md.
"""

from .config import DEFAULT_END_DATE, DEFAULT_SCALE, DEFAULT_SEED, SCALES, TABLES
from .pipeline import OutputExistsError, generate

__all__ = [
    "DEFAULT_END_DATE",
    "DEFAULT_SCALE",
    "DEFAULT_SEED",
    "SCALES",
    "TABLES",
    "OutputExistsError",
    "generate",
]
