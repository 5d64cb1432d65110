"""Read the dbt seeds (countries, currencies, categories) that clean rows must stay within."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEED_FILES = ("countries.csv", "currencies.csv", "product_categories.csv")


def default_seeds_dir() -> Path:
    """The repository's `seeds/` folder (src/retail_ml/generate/seeds.py -> repo root)."""
    return Path(__file__).resolve().parents[3] / "seeds"


@dataclass(frozen=True)
class SeedData:
    """Reference data as index-friendly arrays; generators work with indices into these."""

    countries: tuple[str, ...]
    country_currency: np.ndarray  # per country: index into `currencies`
    currencies: tuple[str, ...]
    eur_per_unit: np.ndarray  # per currency
    categories: tuple[str, ...]  # distinct categories, seed order
    subcategories: tuple[str, ...]  # per (category, subcategory) pair
    pair_category: np.ndarray  # per pair: index into `categories`
    pair_repurchase: np.ndarray  # per pair: bool, consumables bought again and again


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def load_seeds(directory: Path | None = None) -> SeedData:
    """Load and cross-check the three seed CSVs; fail loudly if the repo layout is unexpected."""
    directory = directory or default_seeds_dir()
    missing = [name for name in SEED_FILES if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"seed file(s) {', '.join(missing)} not found in {directory}; the generator reads "
            "the dbt seeds from the repository's seeds/ folder, so run it from a checkout "
            "(or an editable install) of the retail_ml repository"
        )
    countries = _read(directory / "countries.csv")
    currencies = _read(directory / "currencies.csv")
    pairs = _read(directory / "product_categories.csv")

    currency_codes = tuple(row["currency_code"] for row in currencies)
    unknown = {r["currency_code"] for r in countries} - set(currency_codes)
    if unknown:
        raise ValueError(f"countries.csv uses currencies missing from currencies.csv: {unknown}")
    categories = tuple(dict.fromkeys(row["category"] for row in pairs))
    return SeedData(
        countries=tuple(row["country_code"] for row in countries),
        country_currency=np.array(
            [currency_codes.index(row["currency_code"]) for row in countries], dtype=np.int64
        ),
        currencies=currency_codes,
        eur_per_unit=np.array([float(row["eur_per_unit"]) for row in currencies]),
        categories=categories,
        subcategories=tuple(row["subcategory"] for row in pairs),
        pair_category=np.array([categories.index(row["category"]) for row in pairs]),
        pair_repurchase=np.array(
            [row["is_repurchase_typical"].strip().lower() == "true" for row in pairs]
        ),
    )
