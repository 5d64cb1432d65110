# %% [markdown]
# # Customer features, the pandas way
#
# The data scientists' reference for the mart `feat_customer_daily`: raw landing-zone Parquet in,
# one row per customer per as-of date out, in plain pandas (no SQL, no warehouse). A parity test
# (`tests/python/test_feature_parity.py`) checks that the dbt mart gives the same numbers.
#
# **The specification** (this notebook follows the documents, not the SQL):
# - `docs/raw_data_contract.md`: the raw files and their columns;
# - `models/staging/shop/_shop__docs.md`: which raw rows are quarantined (not used);
# - `models/_retail_ml__docs.md`: net sales, order value, the as-of date;
# - `models/marts/customers/_customers__docs.md` and `_customers__models.yml`: the features.
#
# **Run it** as a script or open it as a notebook (percent format: VS Code, PyCharm, or
# `jupytext --to ipynb notebooks/customer_features.py`):
#
# ```bash
# python notebooks/customer_features.py --raw-dir data/raw --as-of 2026-11-25 \
#     --as-of 2026-10-31 --out /tmp/customer_features.parquet
# ```
#
# From other code: `build_customer_features(raw_dir, as_of_dates, seeds_dir)`.

# %%
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

# %% tags=["parameters"]
# Defaults for interactive use; the command line overrides them.
REPO_ROOT = (
    Path(__file__).resolve().parents[1] if "__file__" in globals() else Path.cwd().parent
)
RAW_DIR = REPO_ROOT / "data" / "raw"
SEEDS_DIR = REPO_ROOT / "seeds"
AS_OF_DATES = [date(2026, 11, 25), date(2026, 10, 31)]

# %% [markdown]
# ## 1. Read the landing zone
#
# Every table is a folder of daily partitions, `<table>/load_date=YYYY-MM-DD/part-0.parquet`.
# We read the whole folder and **ignore the partition column** (`partitioning=None`): the
# row's own `_loaded_at` says when it landed. Integer columns become nullable `Int64` (dirty rows
# have null keys) and timestamps become naive UTC, so a calendar date is simply
# `ts.dt.normalize()` (midnight UTC).
#
# Only the columns the features need are read (no names, e-mail is read only to validate it).

# %%
RAW_COLUMNS = {
    "customers": ["id", "email", "country", "signup_channel", "signup_at", "marketing_opt_in",
                  "updated_at", "_loaded_at"],
    "products": ["id", "category", "subcategory", "list_price", "_loaded_at"],
    "orders": ["id", "customer_id", "ordered_at", "status", "currency", "shipping_amount",
               "tax_amount", "updated_at", "_loaded_at"],
    "order_items": ["order_id", "line_number", "product_id", "quantity", "unit_price",
                    "discount_amount", "_loaded_at"],
    "returns": ["id", "order_id", "product_id", "returned_at", "quantity", "refund_amount",
                "_loaded_at"],
    "reviews": ["id", "customer_id", "product_id", "rating", "created_at", "_loaded_at"],
    "web_sessions": ["id", "customer_id", "started_at", "_loaded_at"],
}


def read_raw_table(raw_dir: Path, table: str) -> pd.DataFrame:
    """Every landed row of one raw table (all partitions), timestamps as naive UTC."""
    frame = pd.read_parquet(
        raw_dir / table,
        columns=RAW_COLUMNS[table],
        partitioning=None,  # the load_date=... folder name is not a column
        dtype_backend="numpy_nullable",
    )
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert(None)
    return frame


def read_raw(raw_dir: Path) -> dict[str, pd.DataFrame]:
    return {table: read_raw_table(raw_dir, table) for table in RAW_COLUMNS}


def read_seeds(seeds_dir: Path) -> dict[str, pd.DataFrame]:
    """The reference lists. Read as text: 'NA' is Namibia, not a missing value."""
    seeds = {
        name: pd.read_csv(seeds_dir / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in ("countries", "currencies", "product_categories")
    }
    # Exchange rates have 6 decimals; keep them exact as integer millionths of a euro.
    seeds["currencies"]["eur_micros_per_unit"] = [
        int(Decimal(rate) * 1_000_000) for rate in seeds["currencies"]["eur_per_unit"]
    ]
    return seeds


# %% [markdown]
# ## 2. Clean: the quarantine rules
#
# A raw row is used only if it breaks **none** of its table's rules
# (`models/staging/shop/_shop__docs.md`, `docs/raw_data_contract.md`). The rules are not written
# here one by one: every raw column has a declared **domain** (type, nullability, range, accepted
# values or reference seed, maximum length, format, event-time bounds, parent table) in
# `macros/staging/shop_raw_domains.sql`, the same spec the warehouse derives its rules from, and
# this section evaluates each domain in pandas. Each rule is a boolean Series, True where the row
# breaks it; as in the warehouse, a comparison with a missing value does not break a rule unless
# the rule says so (nullability does).
#
# - The domains need more columns than the features (names, brands, review text for their
#   lengths), so the columns section 1 reads are widened to every declared column below.
# - Rules that look another table up (parents, the order line of a return) compare with the rows
#   **kept** from that table, so the lines of a quarantined order are dropped with it. We clean
#   parents first: customers, products → orders → order items → returns; reviews and sessions.
# - De-duplication comes last: among the rows of one key that pass every other rule, the
#   **first landed** copy is kept (re-sent or conflicting copies alike). Then the `unique` rules
#   (a product at most once per order) keep the first landed row, then the lowest key. (The
#   warehouse breaks ties on `_loaded_at` by a fingerprint of the row; copies of a key never land
#   at the same instant in this data, so we keep file order.)
# - Formats are regexes matched against the whole trimmed value; `\s` there is the regex
#   engine's ASCII whitespace (`[\t\n\f\r ]`), spelled out for Python.
# - Two rules the notebook does not replay, with no effect on any feature: it reads folders, not
#   files, so it cannot check that `_loaded_at` lies in its file's `load_date` partition; and
#   pandas' nullable floats read NaN as missing, so a NaN in an optional amount (shipping, tax;
#   not part of any feature) is kept here and quarantined in the warehouse.

# %%
sys.path.insert(0, str(REPO_ROOT / "src"))
from retail_ml.raw_contract import load_domains  # noqa: E402

DOMAINS = load_domains(REPO_ROOT)
SHOP_OPENING_DATE = pd.Timestamp("2020-01-01")  # dbt var shop_opening_date (dbt_project.yml)
for _table, _spec in DOMAINS.items():
    RAW_COLUMNS[_table] = list(dict.fromkeys([*RAW_COLUMNS[_table], *_spec["columns"]]))

# Each declared row check (`checks` in the spec), in pandas. `lookups` holds the kept parent
# rows aligned to the raw rows (`<column>_parent`, or the lookup's alias).
ROW_CHECKS = {
    "updated_before_signup": lambda raw, lookups: raw["updated_at"] < raw["signup_at"],
    "updated_before_ordered": lambda raw, lookups: raw["updated_at"] < raw["ordered_at"],
    "discount_exceeds_line": lambda raw, lookups: (
        raw["discount_amount"] > raw["quantity"] * raw["unit_price"]),
    "returned_before_ordered": lambda raw, lookups: (
        raw["returned_at"] < lookups["order_id_parent"]["ordered_at"]),
    "return_exceeds_ordered": lambda raw, lookups: (
        raw["quantity"] > lookups["order_line"]["quantity"]),
    "refund_exceeds_paid": lambda raw, lookups: raw["refund_amount"] > raw["quantity"] * (
        lookups["order_line"]["unit_price"]
        - lookups["order_line"]["discount_amount"].fillna(0) / lookups["order_line"]["quantity"]
    ) + 0.01,
    "more_products_than_pages": lambda raw, lookups: (
        raw["viewed_product_ids"].map(len, na_action="ignore").astype("Int64")
        > raw["pages_viewed"]),
}


def _regex(pattern: str) -> str:
    return pattern.replace(r"\s", "\t\n\f\r ")


def _aligned(raw: pd.DataFrame, table: pd.DataFrame, match: dict[str, str]) -> pd.DataFrame:
    """The row of `table` matching each raw row on `match` (raw column -> table column), or NA."""
    right = table.rename(columns={v: k for k, v in match.items()}).drop_duplicates(list(match))
    merged = raw[list(match)].merge(right, on=list(match), how="left", indicator=True)
    merged.index = raw.index
    merged["_found"] = merged["_merge"] == "both"
    return merged


def parents_of(spec: dict) -> list[dict]:
    """The other tables' rows a raw row names: its parents (`<column>_parent`) and lookups."""
    return [
        {"alias": f"{column}_parent", **domain["parent"]}
        for column, domain in spec["columns"].items() if "parent" in domain
    ] + spec.get("lookups", [])


def domain_rules(
    name: str, raw: pd.DataFrame, kept: dict[str, pd.DataFrame], seeds: dict[str, pd.DataFrame]
) -> dict[str, pd.Series]:
    """Rule name (with its column) -> True where the raw row breaks it."""
    spec = DOMAINS[name]
    rules: dict[str, pd.Series] = {}
    for column in spec["key"]:
        rules[f"null_key:{column}"] = raw[column].isna()
    for column, domain in spec["columns"].items():
        values = raw[column]
        if column not in spec["key"] and not domain.get("nullable"):
            rules[f"missing_value:{column}"] = values.isna()
        if domain["type"] == "double":
            as_float = values.to_numpy(dtype=float, na_value=np.nan)
            rules[f"not_finite:{column}"] = pd.Series(np.isinf(as_float), index=raw.index)
        if domain["type"] == "string":
            text = values.astype("string")
            if not domain.get("allow_blank"):
                rules[f"blank_string:{column}"] = text.str.strip(" ") == ""
            if "max_length" in domain:
                rules[f"too_long:{column}"] = text.str.len() > domain["max_length"]
            if "format" in domain:
                rules[f"malformed:{column}"] = ~text.str.strip(" ").str.fullmatch(
                    _regex(domain["format"])).astype("boolean")
        if "accepted" in domain:
            rules[f"not_accepted:{column}"] = values.notna() & ~values.isin(domain["accepted"])
        if "reference" in domain:
            match = domain["reference"]["match"]
            seed = seeds[domain["reference"]["seed"]][list(match.values())]
            rules[f"not_accepted:{column}"] = values.notna() & ~_aligned(raw, seed, match)["_found"]
        if "min" in domain:
            rules[f"out_of_range:{column}<"] = values < domain["min"]
        if "max" in domain:
            rules[f"out_of_range:{column}>"] = values > domain["max"]
        if "max_items" in domain:
            rules[f"out_of_range:{column}"] = values.map(
                lambda items, most=domain["max_items"], least=domain["item_min"]: (
                    len(items) > most
                    or any(item is None or pd.isna(item) or item < least for item in items)),
                na_action="ignore").astype("boolean")
        if domain.get("event_time") or domain.get("load_time"):
            rules[f"before_opening:{column}"] = values < SHOP_OPENING_DATE
        if domain.get("event_time"):
            latest = raw["_loaded_at"] + pd.Timedelta(days=domain.get("lead_days", 0))
            rules[f"future_timestamp:{column}"] = values > latest
    lookups: dict[str, pd.DataFrame] = {}
    for parent in parents_of(spec):
        match = parent["match"]
        aligned = _aligned(raw, kept[parent["table"]], match)
        lookups[parent["alias"]] = aligned
        present = raw[list(match)].notna().all(axis=1)
        # unknown_<parent>, parent_quarantined, product_not_in_order: not among the kept rows
        rules[f"parent:{parent['alias']}"] = present & ~aligned["_found"]
    for check in spec.get("checks", []):
        rules[check["name"]] = ROW_CHECKS[check["name"]](raw, lookups)
    return rules


def keep_clean_rows(
    raw: pd.DataFrame, rules: dict[str, pd.Series], key: list[str],
    unique: list[dict] | None = None,
) -> pd.DataFrame:
    """Rows breaking no rule, then the first landed copy of each key (and of each unique rule)."""
    broken = pd.concat(rules, axis=1).astype("boolean").fillna(False).any(axis=1)
    passing = raw[~broken.to_numpy()]
    kept = passing.sort_values([*key, "_loaded_at"], kind="stable").drop_duplicates(
        key, keep="first"
    )
    for rule in unique or []:
        kept = kept.sort_values(["_loaded_at", *key], kind="stable").drop_duplicates(
            rule["columns"], keep="first")
    return kept


def with_known_at(rows: pd.DataFrame, spec: dict, kept: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Adds `known_at`: when the row became usable, the latest of its own `_loaded_at` and the
    `known_at` of the first kept copy of each parent or lookup row it names (a line whose
    product lands days after it is known from then; an order, from its customer's landing)."""
    known = [rows["_loaded_at"]]
    for parent in parents_of(spec):
        match = parent["match"]
        keys = list(match.values())
        first = kept[parent["table"]].groupby(keys, as_index=False)["known_at"].min()
        known.append(_aligned(rows, first, match)["known_at"])
    return rows.assign(known_at=pd.concat(known, axis=1).max(axis=1))


def clean(raw: dict[str, pd.DataFrame], seeds: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The rows the features may use, parents before children (the order of DOMAINS), each
    with its `known_at`."""
    kept: dict[str, pd.DataFrame] = {}
    for name, spec in DOMAINS.items():
        rules = domain_rules(name, raw[name], kept, seeds)
        rows = keep_clean_rows(raw[name], rules, spec["key"], spec.get("unique"))
        kept[name] = with_known_at(rows, spec, kept)
    return kept


# %% [markdown]
# ## 3. Money in exact cents
#
# Raw money is a float in the order's currency. Net sales are exact decimals
# (`models/_retail_ml__docs.md`):
#
# - every amount is first rounded to cents (the warehouse stores DECIMAL(18,2));
# - an order line is worth `round((quantity × unit_price − discount_amount) × eur_per_unit, 2)`
#   EUR, a refund `round(refund_amount × eur_per_unit, 2)` EUR;
# - rounding is half away from zero, and line values are rounded **before** they are summed.
#
# We do all of this in integer cents (and integer millionths for the rates), so sums are exact;
# the final columns are `Decimal`s.

# %%
def round_half_away_from_zero(values: pd.Series) -> pd.Series:
    values = values.astype(float)
    return np.sign(values) * np.floor(np.abs(values) + 0.5)


def to_cents(amount: pd.Series) -> pd.Series:
    """A float amount rounded to whole cents (int64)."""
    return round_half_away_from_zero(amount * 100).astype("int64")


def convert_cents_to_eur(cents: pd.Series, eur_micros_per_unit: pd.Series) -> pd.Series:
    """Cents in a currency × rate (in millionths) → EUR cents, rounded half away from zero."""
    micro_cents = cents.astype("int64").to_numpy() * eur_micros_per_unit.astype("int64").to_numpy()
    eur_cents = np.sign(micro_cents) * ((np.abs(micro_cents) + 500_000) // 1_000_000)
    return pd.Series(eur_cents, index=cents.index, dtype="int64")


def cents_to_decimal(cents: pd.Series) -> pd.Series:
    return cents.map(lambda value: Decimal(int(value)).scaleb(-2)).astype(object)


# %% [markdown]
# ## 4. Events: what happened, when, and from when we knew it
#
# Every feature counts or sums **events**. Each event table gets two dates (UTC):
#
# - `event_date`: when it happened (`ordered_at`, `returned_at`, `created_at`, `started_at`);
# - `known_date`: when the **last** raw row it needs had landed. An order needs its order row; an
#   order line needs the line **and** its order; a refund needs the return **and** its order; a
#   review or a session needs its own row. A row also needs the rows it names (its parents and
#   lookups, section 2): until they land it is quarantined, so `clean` gives every kept row a
#   `known_at`, the latest of its own `_loaded_at` and its parents' `known_at` (an order whose
#   customer lands a day later, a line whose product lands late, are known from then).
#
# A feature row for as-of date D sees an event only if `known_date <= D` (and the event happened
# before D + 1 day, which follows: nothing lands before it happens).
#
# **Order status** comes as a change stream: one raw row per status an order reached (placed,
# shipped, delivered, cancelled), each with its `updated_at`, landing when it happened. An order
# is known from the day its first version became usable, with the header of its first version. A
# cancellation is an event of its own: it happened on its `updated_at` date and is known when its
# row landed, the same rule; from that `retracted_date` on the order and its lines count for
# nothing, on every date before they count like any order. (Cancelled is final: the first
# cancelled version counts.)

# %%
def utc_date(timestamps: pd.Series) -> pd.Series:
    return timestamps.dt.normalize()


@dataclass(frozen=True)
class CustomerEvents:
    """Clean, dated inputs of the features (one row per event)."""

    versions: pd.DataFrame  # customer CDC versions
    orders: pd.DataFrame  # one row per order
    lines: pd.DataFrame  # one row per order line, valued in EUR cents
    refunds: pd.DataFrame  # one row per return, valued in EUR cents
    reviews: pd.DataFrame
    sessions: pd.DataFrame  # logged-in sessions only
    latest_day: pd.Timestamp  # the latest complete day: the last day any order landed


def build_events(shop: dict[str, pd.DataFrame], seeds: dict[str, pd.DataFrame]) -> CustomerEvents:
    rates = seeds["currencies"][["currency_code", "eur_micros_per_unit"]]

    versions = shop["customers"].rename(columns={"id": "customer_id"}).astype(
        {"customer_id": "int64"}
    )

    order_versions = shop["orders"].rename(columns={"id": "order_id"}).astype(
        {"order_id": "int64", "customer_id": "int64"}
    )
    cancellations = (
        order_versions[order_versions["status"] == "cancelled"]
        .groupby("order_id")
        .agg(cancelled_at=("updated_at", "min"), cancellation_known_at=("known_at", "min"))
    )
    orders = (
        order_versions.sort_values(["order_id", "updated_at"])
        .drop_duplicates("order_id", keep="first")  # the header as placed
        .drop(columns=["known_at"])
        .join(order_versions.groupby("order_id")["known_at"].min(), on="order_id")  # first usable
        .join(cancellations, on="order_id")
    )
    orders = orders.assign(
        is_cancelled=orders["cancelled_at"].notna(),
        event_date=utc_date(orders["ordered_at"]),
        known_date=utc_date(orders["known_at"]),
        retracted_date=np.maximum(
            utc_date(orders["cancellation_known_at"]), utc_date(orders["cancelled_at"])
        ),
    ).merge(rates, left_on="currency", right_on="currency_code", validate="many_to_one")

    categories = shop["products"][["id", "category"]].rename(columns={"id": "product_id"})
    lines = (
        shop["order_items"]
        .astype({"order_id": "int64", "product_id": "int64", "quantity": "int64"})
        .merge(
            orders[["order_id", "customer_id", "is_cancelled", "event_date", "retracted_date",
                    "eur_micros_per_unit", "known_at"]],
            on="order_id",
            suffixes=("", "_order"),
            validate="many_to_one",
        )
        .merge(categories.astype({"product_id": "int64"}), on="product_id", validate="many_to_one")
    )
    line_cents = (
        lines["quantity"] * to_cents(lines["unit_price"])
        - to_cents(lines["discount_amount"].fillna(0.0))
    )
    lines = lines.assign(
        net_sales_cents=convert_cents_to_eur(line_cents, lines["eur_micros_per_unit"]),
        known_date=utc_date(np.maximum(lines["known_at"], lines["known_at_order"])),
    )

    refunds = (
        shop["returns"]
        .astype({"order_id": "int64", "product_id": "int64", "quantity": "int64"})
        .merge(
            orders[["order_id", "customer_id", "eur_micros_per_unit", "known_at"]],
            on="order_id",
            suffixes=("", "_order"),
            validate="many_to_one",
        )
    )
    refunds = refunds.assign(
        refund_cents=convert_cents_to_eur(
            to_cents(refunds["refund_amount"]), refunds["eur_micros_per_unit"]
        ),
        event_date=utc_date(refunds["returned_at"]),
        known_date=utc_date(np.maximum(refunds["known_at"], refunds["known_at_order"])),
    )

    reviews = shop["reviews"].astype({"customer_id": "int64", "rating": "int64"})
    reviews = reviews.assign(
        event_date=utc_date(reviews["created_at"]), known_date=utc_date(reviews["known_at"])
    )

    sessions = shop["web_sessions"].dropna(subset=["customer_id"])  # anonymous sessions out
    sessions = sessions.astype({"customer_id": "int64"}).assign(
        event_date=utc_date(sessions["started_at"]), known_date=utc_date(sessions["known_at"])
    )

    return CustomerEvents(
        versions=versions,
        orders=orders,
        lines=lines,
        refunds=refunds,
        reviews=reviews,
        sessions=sessions,
        latest_day=orders["known_date"].max(),
    )


# %% [markdown]
# Two filters do all the point-in-time work:
#
# - `known_by(events, D)`: events whose rows had all landed by the end of D and that were not
#   retracted by then (an order or line whose cancellation was known by D);
# - `in_window(events, D, N)`: events on the calendar days D−N+1 … D (inclusive).

# %%
def known_by(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    known = (events["known_date"] <= as_of) & (events["event_date"] <= as_of)
    if "retracted_date" in events:
        known &= ~(events["retracted_date"] <= as_of).fillna(False).astype(bool)
    return events[known]


def in_window(events: pd.DataFrame, as_of: pd.Timestamp, days: int) -> pd.DataFrame:
    first_day = as_of - pd.Timedelta(days=days - 1)
    return events[(events["event_date"] >= first_day) & (events["event_date"] <= as_of)]


# %% [markdown]
# ## 5. Features, one group at a time
#
# Each function takes the events and one as-of date D and returns a frame indexed by
# `customer_id` holding only the customers with something to report; the assembly step
# (section 6) fills the others with 0 (counts, sums) or leaves them null (averages, rates).
#
# ### Who has a row, and their attributes as of D
#
# - A customer has a row for every D from the day the warehouse **knew** them (the UTC date the
#   first of their versions landed; the signup day except for a few late-landed records) to the
#   latest complete day.
# - `signup_date` is the UTC date of the earliest `signup_at` over their versions; tenure counts
#   from it (so a late-landed customer's first row can have a tenure above 0).
# - Country, signup channel and marketing consent come from the CDC version **in force on D**.
#   A version applies from the UTC date of `max(updated_at, _loaded_at)` (effective **and**
#   landed); of the versions applying by D, the one with the latest `updated_at` is in force. So
#   on a day several start to apply the latest `updated_at` wins, and a version that lands after a
#   newer one (out-of-order CDC) is stale and never takes over.

# %%
def customer_days(events: CustomerEvents, as_of: pd.Timestamp) -> pd.DataFrame:
    per_customer = events.versions.groupby("customer_id")
    known_from = utc_date(per_customer["_loaded_at"].min())
    signup_date = utc_date(per_customer["signup_at"].min())[known_from <= as_of]
    return pd.DataFrame(
        {
            "signup_date": signup_date,
            "as_of_date": as_of,
            "tenure_days": (as_of - signup_date).dt.days,
            "is_latest": as_of == events.latest_day,
        }
    )


def customer_attributes(events: CustomerEvents, as_of: pd.Timestamp) -> pd.DataFrame:
    versions = events.versions
    applies_from = utc_date(np.maximum(versions["updated_at"], versions["_loaded_at"]))
    in_force = (
        versions[applies_from <= as_of]
        .sort_values(["customer_id", "updated_at", "_loaded_at"])
        .drop_duplicates("customer_id", keep="last")
    )
    return in_force.set_index("customer_id")[
        ["country", "signup_channel", "marketing_opt_in"]
    ].rename(columns={"country": "country_code", "marketing_opt_in": "is_marketing_opt_in"})


# %% [markdown]
# ### Orders
#
# Orders known by D and not known to be cancelled by D: counts in the 7/10/30/90-day windows
# and since the first order, and the date of the last order (for recency). An order cancelled
# on D+3 counts on D, D+1 and D+2, and from D+3 on it is as if it had never been placed.

# %%
ORDER_WINDOWS = (7, 10, 30, 90)


def order_features(events: CustomerEvents, as_of: pd.Timestamp) -> pd.DataFrame:
    orders = known_by(events.orders, as_of)
    by_customer = {
        f"orders_{days}d": in_window(orders, as_of, days).groupby("customer_id").size()
        for days in ORDER_WINDOWS
    }
    by_customer["orders_lifetime"] = orders.groupby("customer_id").size()
    by_customer["last_order_date"] = orders.groupby("customer_id")["event_date"].max()
    return pd.DataFrame(by_customer)


# %% [markdown]
# ### Net sales (EUR cents)
#
# Net sales in a period = the line values of orders **placed** in the period (and not known to
# be cancelled by D) minus
# the refunds **returned** in the period (whatever the order's date). Lifetime = everything known
# by D. We also keep the order value of the 10-day window (lines only, before refunds) for the
# average order value.

# %%
NET_SALES_WINDOWS = (7, 30, 90)


def net_sales_features(events: CustomerEvents, as_of: pd.Timestamp) -> pd.DataFrame:
    sold = known_by(events.lines, as_of)
    refunded = known_by(events.refunds, as_of)

    def net_sales_cents(lines: pd.DataFrame, refunds: pd.DataFrame) -> pd.Series:
        sales = lines.groupby("customer_id")["net_sales_cents"].sum()
        refund_total = refunds.groupby("customer_id")["refund_cents"].sum()
        return sales.sub(refund_total, fill_value=0)

    by_customer = {
        f"net_sales_{days}d_cents": net_sales_cents(
            in_window(sold, as_of, days), in_window(refunded, as_of, days)
        )
        for days in NET_SALES_WINDOWS
    }
    by_customer["net_sales_lifetime_cents"] = net_sales_cents(sold, refunded)
    by_customer["order_value_10d_cents"] = (
        in_window(sold, as_of, 10).groupby("customer_id")["net_sales_cents"].sum()
    )
    return pd.DataFrame(by_customer)


# %% [markdown]
# ### Basket: categories and returns (90 days)
#
# Lines of orders placed in the 90-day window, known by D and not known to be cancelled by D:
#
# - `distinct_categories_90d`: how many product categories they cover;
# - units bought = their quantities; units returned = the quantities of the returns known by D,
#   matched to the line by (order, product) and capped at the line's quantity;
#   `return_rate_90d` = returned / bought (null when nothing was bought).

# %%
def basket_features(events: CustomerEvents, as_of: pd.Timestamp) -> pd.DataFrame:
    lines = in_window(known_by(events.lines, as_of), as_of, 90)
    returned = (
        known_by(events.refunds, as_of)
        .groupby(["order_id", "product_id"], as_index=False)["quantity"]
        .sum()
        .rename(columns={"quantity": "returned_quantity"})
    )
    bought = (
        lines.groupby(["customer_id", "order_id", "product_id"], as_index=False)["quantity"]
        .sum()
        .merge(returned, on=["order_id", "product_id"], how="left")
    )
    bought["returned_units"] = np.minimum(
        bought["returned_quantity"].fillna(0), bought["quantity"]
    ).astype("int64")

    per_customer = bought.groupby("customer_id")
    return pd.DataFrame(
        {
            "distinct_categories_90d": lines.groupby("customer_id")["category"].nunique(),
            "units_bought_90d": per_customer["quantity"].sum(),
            "units_returned_90d": per_customer["returned_units"].sum(),
        }
    )


# %% [markdown]
# ### Reviews (90 days) and sessions (30 days)
#
# - Reviews created in the window and landed by D: their count and mean rating.
# - Logged-in sessions started in the window and landed by D: their count, and on how many
#   distinct (UTC) days there was at least one.

# %%
def review_features(events: CustomerEvents, as_of: pd.Timestamp) -> pd.DataFrame:
    reviews = in_window(known_by(events.reviews, as_of), as_of, 90).groupby("customer_id")
    return pd.DataFrame(
        {"reviews_90d": reviews.size(), "avg_rating_90d": reviews["rating"].mean()}
    )


def session_features(events: CustomerEvents, as_of: pd.Timestamp) -> pd.DataFrame:
    sessions = in_window(known_by(events.sessions, as_of), as_of, 30).groupby("customer_id")
    return pd.DataFrame(
        {"sessions_30d": sessions.size(), "active_days_30d": sessions["event_date"].nunique()}
    )


# %% [markdown]
# ### Activity rank (30 days)
#
# The customer's percentile among **all customers with a row on D**, ordering by
# (orders_30d, net_sales_30d, sessions_30d): `(rank − 1) / (n − 1)` where customers equal on all
# three share the lowest rank (SQL `percent_rank`), and 0 when there is only one customer.

# %%
RANK_KEYS = ["orders_30d", "net_sales_30d_cents", "sessions_30d"]


def activity_rank(day: pd.DataFrame) -> pd.Series:
    """`day`: one row per customer for a single as-of date."""
    if len(day) <= 1:
        return pd.Series(0.0, index=day.index)
    ordered = day.sort_values(RANK_KEYS)
    position = pd.Series(np.arange(len(ordered)), index=ordered.index)  # 0-based
    lowest_position_of_ties = position.groupby([ordered[key] for key in RANK_KEYS]).transform("min")
    return (lowest_position_of_ties / (len(day) - 1)).reindex(day.index)


# %% [markdown]
# ## 6. One as-of date: assemble the row per customer
#
# Counts and sums default to 0; averages and rates stay null when there is nothing to average.
# Flags: *new* = tenure under 30 days; *active* = an order in the last 90 days; *churned* =
# ordered before but not in the last 90 days.

# %%
FEATURE_COLUMNS = [
    "customer_id", "country_code", "signup_channel",
    "orders_7d", "orders_10d", "orders_30d", "orders_90d", "orders_lifetime",
    "net_sales_7d", "net_sales_30d", "net_sales_90d", "net_sales_lifetime",
    "avg_order_value_10d", "days_since_last_order", "distinct_categories_90d", "return_rate_90d",
    "reviews_90d", "avg_rating_90d", "sessions_30d", "active_days_30d", "activity_rank_30d",
    "tenure_days", "is_marketing_opt_in", "is_new_customer", "is_active_customer",
    "is_churned_customer", "is_latest", "as_of_date", "signup_date",
]
ZERO_WHEN_NOTHING = [
    "orders_7d", "orders_10d", "orders_30d", "orders_90d", "orders_lifetime",
    "net_sales_7d_cents", "net_sales_30d_cents", "net_sales_90d_cents",
    "net_sales_lifetime_cents", "order_value_10d_cents", "distinct_categories_90d",
    "units_bought_90d", "units_returned_90d", "reviews_90d", "sessions_30d", "active_days_30d",
]
MONEY_COLUMNS = ["net_sales_7d", "net_sales_30d", "net_sales_90d", "net_sales_lifetime"]


def features_as_of(events: CustomerEvents, as_of: pd.Timestamp) -> pd.DataFrame:
    day = customer_days(events, as_of)
    if as_of > events.latest_day:  # no complete data for that day yet
        day = day.iloc[0:0]
    for feature_group in (customer_attributes, order_features, net_sales_features,
                          basket_features, review_features, session_features):
        day = day.join(feature_group(events, as_of), how="left")
    day[ZERO_WHEN_NOTHING] = day[ZERO_WHEN_NOTHING].fillna(0).astype("int64")

    has_orders_10d = day["orders_10d"] > 0
    has_units_90d = day["units_bought_90d"] > 0
    day = day.assign(
        avg_order_value_10d=(day["order_value_10d_cents"] / 100 / day["orders_10d"]).where(
            has_orders_10d
        ),
        return_rate_90d=(day["units_returned_90d"] / day["units_bought_90d"]).where(
            has_units_90d
        ),
        days_since_last_order=(as_of - day["last_order_date"]).dt.days.astype("Int64"),
        activity_rank_30d=activity_rank(day),
        is_new_customer=day["tenure_days"] < 30,
        is_active_customer=day["orders_90d"] > 0,
        is_churned_customer=(day["orders_lifetime"] > 0) & (day["orders_90d"] == 0),
    )
    for money in MONEY_COLUMNS:
        day[money] = cents_to_decimal(day[f"{money}_cents"])
    return day.rename_axis("customer_id").reset_index()[FEATURE_COLUMNS]


# %% [markdown]
# ## 7. All requested dates
#
# The entry point: read, clean, build the events once, then one vectorised pass per as-of date.

# %%
def build_customer_features(
    raw_dir: Path, as_of_dates: list[date], seeds_dir: Path = SEEDS_DIR
) -> pd.DataFrame:
    """One row per customer per as-of date, as `feat_customer_daily` defines it."""
    seeds = read_seeds(Path(seeds_dir))
    events = build_events(clean(read_raw(Path(raw_dir)), seeds), seeds)
    days = [features_as_of(events, pd.Timestamp(as_of)) for as_of in sorted(set(as_of_dates))]
    features = pd.concat(days, ignore_index=True)
    return features.sort_values(["as_of_date", "customer_id"], ignore_index=True)


# %% [markdown]
# ## Try it
#
# As a notebook, this uses the parameters cell at the top; as a script, the command line.

# %%
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Customer features from the raw landing zone.")
    parser.add_argument("--raw-dir", type=Path, default=RAW_DIR)
    parser.add_argument("--seeds-dir", type=Path, default=SEEDS_DIR)
    parser.add_argument(
        "--as-of", dest="as_of_dates", type=date.fromisoformat, action="append", required=True,
        help="as-of date (YYYY-MM-DD); repeat for several dates",
    )
    parser.add_argument("--out", type=Path, help="write the frame to this .parquet or .csv file")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    features = build_customer_features(args.raw_dir, args.as_of_dates, args.seeds_dir)
    elapsed = time.perf_counter() - started

    with pd.option_context("display.width", 200, "display.max_columns", 40):
        print(features.head(10))
    print()
    print(features.groupby("as_of_date").size().rename("customers").to_string())
    print(f"{len(features)} rows in {elapsed:.1f} s")
    if args.out is not None:
        if args.out.suffix == ".csv":
            features.to_csv(args.out, index=False)
        else:
            features.to_parquet(args.out, index=False)
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    if "ipykernel" in sys.modules:  # opened as a notebook: use the parameters cell
        customer_features = build_customer_features(RAW_DIR, AS_OF_DATES, SEEDS_DIR)
        display(customer_features)  # noqa: F821 - provided by IPython
    else:
        sys.exit(main())
