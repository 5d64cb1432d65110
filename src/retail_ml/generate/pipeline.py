"""Orchestration: build the world, derive every table, dirty it, write it."""

from __future__ import annotations

import logging
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import dirty, tables, writer
from .activity import make_activity
from .baskets import make_lines
from .cdc import make_versions
from .config import DEFAULT_END_DATE, DEFAULT_SCALE, DEFAULT_SEED, TABLES, get_scale
from .customers import make_customers
from .loading import loaded_at
from .orders import make_orders, status_versions
from .pricing import CODES, price
from .products import ProductSampler, make_products
from .returns import make_returns
from .reviews import make_reviews
from .seeds import load_seeds
from .sessions import make_sessions
from .world import World

log = logging.getLogger(__name__)
GENERATOR_VERSION = 2  # bump when the same seed would produce different data
# 2: orders are a change stream (one row per status, `updated_at`), not one row per order


class OutputExistsError(FileExistsError):
    """The output folder already holds generated data and `force` was not given."""


def build_world(scale: str, seed: int, end_date: date, seeds_dir: Path | None = None) -> World:
    return World(seed=seed, scale=get_scale(scale), end_date=end_date,
                 seeds=load_seeds(seeds_dir))


def build_tables(world: World) -> dict[str, pa.Table]:
    """All clean tables, in memory, per the raw data contract.

    Entities are turned into Arrow tables as soon as nothing downstream needs them, which
    keeps the peak memory of the `large` preset in check.
    """
    end = world.end_max_us

    def land(purpose: str, event: np.ndarray) -> np.ndarray:
        return loaded_at(world.rng(f"loaded/{purpose}"), event, end)

    out: dict[str, pa.Table] = {}
    cust = make_customers(world)
    versions = make_versions(world, cust)  # before orders: moves change the currency
    out["customers"] = tables.customers_table(world, cust, versions,
                                              land("customers", versions.updated_at))
    del versions
    products = make_products(world)
    out["products"] = tables.products_table(world, products)
    sampler = ProductSampler(products, len(world.seeds.categories))

    act = make_activity(world, cust)
    orders, rate = make_orders(world, cust, act)
    lines = make_lines(world, cust, orders, products, sampler)
    money = price(world, cust, orders, lines, products)
    order_loaded = land("orders", orders.ordered_at)
    # Each status change lands when it happens (its own stream: the placements land as before).
    changed_at = status_versions(orders)[2][orders.n:]
    out["orders"] = tables.orders_table(world, cust, orders, money.shipping, money.tax,
                                        money.discount_code, CODES, order_loaded,
                                        land("orders/status", changed_at))
    # Lines arrive with their order header.
    out["order_items"] = tables.order_items_table(
        lines.order, lines.line_number, products.id[lines.product], lines.quantity,
        money.unit_price, money.discount, order_loaded[lines.order])
    del order_loaded

    rets = make_returns(world, cust, orders, lines, products, money)
    del money
    out["returns"] = tables.returns_table(
        lines.order[rets.line] + 1, products.id[lines.product[rets.line]],
        rets.returned_at, rets.quantity, rets.refund, land("returns", rets.returned_at))
    revs = make_reviews(world, cust, orders, lines, products, rets)
    del rets
    out["reviews"] = tables.reviews_table(cust, products, revs,
                                          land("reviews", revs.created_at))
    del revs

    sess = make_sessions(world, cust, act, orders, rate, lines, products, sampler)
    del act, orders, lines
    out["web_sessions"] = tables.sessions_table(cust, products, sess,
                                                land("web_sessions", sess.started_at))
    return out


def generate(
    out_dir: Path | str,
    scale: str = DEFAULT_SCALE,
    seed: int = DEFAULT_SEED,
    end_date: date = DEFAULT_END_DATE,
    *,
    force: bool = False,
    seeds_dir: Path | None = None,
) -> dict:
    """Generate the raw landing zone into `out_dir` and return the manifest.

    Refuses (OutputExistsError) if `out_dir` already holds generator output, unless `force`,
    which deletes only the generator's own table folders and manifest before writing.
    """
    out_dir = Path(out_dir)
    world = build_world(scale, seed, end_date, seeds_dir)
    if writer.existing_outputs(out_dir):
        if not force:
            raise OutputExistsError(f"{out_dir} already holds generated data (use force)")
        writer.clear_outputs(out_dir)

    started = time.perf_counter()
    clean = build_tables(world)
    log.info("built clean tables in %.1fs", time.perf_counter() - started)
    rows, clean_rows, dirty_rows, files = {}, {}, {}, {}
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        raw, counts = dirty.inject(world, name, clean[name])
        files[name] = writer.write_partitioned(raw, name, tables.KEYS[name], out_dir)
        rows[name], clean_rows[name], dirty_rows[name] = raw.num_rows, clean[name].num_rows, counts
        del clean[name]  # free memory as we go
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "scale": world.scale.name,
        "seed": seed,
        "start_date": world.start_date.isoformat(),
        "end_date": world.end_date.isoformat(),
        "tables": list(TABLES),
        "rows": rows,
        "clean_rows": clean_rows,
        "dirty_rows": dirty_rows,
        "partitions": files,
    }
    writer.write_manifest(manifest, out_dir)
    log.info("wrote %s in %.1fs", out_dir, time.perf_counter() - started)
    return manifest
