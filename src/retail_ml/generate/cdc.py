"""The customers CDC feed: the sign-up version plus later profile edits of some customers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .customers import FIRST_NAMES, LAST_NAMES, Customers, country_weights
from .world import US_PER_DAY, US_PER_HOUR, World

CDC_SHARE = 0.15  # customers with at least one later version
EXTRA_VERSIONS_P = np.array([0.70, 0.22, 0.08])  # 1, 2 or 3 later versions
# What a later version changes: marketing opt-in flips, e-mail change, move to another country.
CHANGE_P = np.array([0.60, 0.30, 0.10])
OPT_IN, EMAIL, COUNTRY = 0, 1, 2
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


@dataclass
class CustomerVersions:
    """One row per customer version, sorted by (customer, updated_at)."""

    customer: np.ndarray  # index into Customers
    updated_at: np.ndarray
    email_variant: np.ndarray  # how many e-mail changes happened so far
    country: np.ndarray
    opt_in: np.ndarray


def make_versions(world: World, cust: Customers) -> CustomerVersions:
    """Draw later versions and record country moves on `cust` (orders bill in the new currency)."""
    rng = world.rng("customers_cdc")
    end = world.end_max_us
    eligible = cust.signup_at < end - 3 * US_PER_DAY  # room for an edit after sign-up
    has_cdc = eligible & (rng.random(cust.n) < CDC_SHARE)
    owners = np.flatnonzero(has_cdc)
    extra = rng.choice(len(EXTRA_VERSIONS_P), len(owners), p=EXTRA_VERSIONS_P) + 1
    who = np.repeat(owners, extra)
    # Edits happen any time after sign-up but land (updated_at + loading delay) before the end.
    span = end - 2 * US_PER_HOUR - cust.signup_at[who]
    when = cust.signup_at[who] + (rng.random(len(who)) * span).astype(np.int64) + 1
    change = rng.choice(3, len(who), p=CHANGE_P)

    customer = np.concatenate([np.arange(cust.n), who])
    updated_at = np.concatenate([cust.signup_at, when])
    change = np.concatenate([np.full(cust.n, -1), change])
    order = np.lexsort((updated_at, customer))
    customer, updated_at, change = customer[order], updated_at[order], change[order]

    first_row = np.r_[True, customer[1:] != customer[:-1]]
    # A second move within the short history would be noise; it becomes an opt-in flip.
    is_country = change == COUNTRY
    prior_moves = _group_cumsum(is_country, first_row) - is_country
    change = np.where(is_country & (prior_moves > 0), OPT_IN, change)
    is_country = change == COUNTRY

    moved_idx = customer[is_country]
    n_countries = len(world.seeds.countries)
    target = rng.choice(n_countries, len(moved_idx), p=country_weights(world.seeds.countries))
    target = np.where(target == cust.country[moved_idx], (target + 1) % n_countries, target)
    cust.country_change_at[moved_idx] = updated_at[is_country]
    cust.country_after[moved_idx] = target

    flips = _group_cumsum(change == OPT_IN, first_row)
    moved = updated_at >= cust.country_change_at[customer]
    return CustomerVersions(
        customer=customer,
        updated_at=updated_at,
        email_variant=_group_cumsum(change == EMAIL, first_row),
        country=np.where(moved, cust.country_after[customer], cust.country[customer]),
        opt_in=cust.opt_in[customer] ^ (flips % 2 == 1),
    )


def _group_cumsum(flag: np.ndarray, first_row: np.ndarray) -> np.ndarray:
    """Running count of `flag` within consecutive groups that start where `first_row` is set."""
    total = np.cumsum(flag.astype(np.int64))
    start = np.flatnonzero(first_row)
    group = np.cumsum(first_row) - 1
    before = total[start] - flag[start]
    return total - before[group]


def names_and_emails(cust: Customers, ver: CustomerVersions) -> tuple[pa.Array, pa.Array]:
    """`full_name` and `email` per version row; e-mails embed the id so they are unique."""
    first = pa.array(FIRST_NAMES).take(pa.array(cust.first_name[ver.customer]))
    last = pa.array(LAST_NAMES).take(pa.array(cust.last_name[ver.customer]))
    full_name = pc.binary_join_element_wise(first, last, " ")
    f, la = pc.utf8_lower(first), pc.utf8_lower(last)
    cid = pc.cast(pa.array(cust.id[ver.customer]), pa.string())
    initial = pc.utf8_slice_codeunits(f, 0, 1)
    variants = [
        pc.binary_join_element_wise(f, ".", la, cid, "@" + EMAIL_DOMAINS[0], ""),
        pc.binary_join_element_wise(initial, la, cid, "@" + EMAIL_DOMAINS[1], ""),
        pc.binary_join_element_wise(f, cid, ".", la, "@" + EMAIL_DOMAINS[2], ""),
        pc.binary_join_element_wise(la, ".", f, cid, "@" + EMAIL_DOMAINS[0], ""),
    ]
    choice = pa.array(np.minimum(ver.email_variant, len(variants) - 1))
    return full_name, pc.choose(choice, *variants)
