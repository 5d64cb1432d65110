"""What is popular, overall, per country and per (country, signup channel) segment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from retail_ml.recommend.inputs import Catalog
from retail_ml.recommend.similarity import purchase_matrix

#: How specific the popularity a customer is shown is: their segment, their country, or global.
POPULARITY_LEVELS: tuple[str, ...] = ("segment", "country", "global")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Popularity:
    """Popularity scores of every product for every (country, signup channel) segment.

    ``scores[s, j]`` is the estimated share of recent buyers of segment ``s`` who bought product
    ``j``; ``levels[s, j]`` is the most specific level at which ``j`` has recent buyers
    (0 = the segment, 1 = its country, 2 = only elsewhere or nowhere), used to explain it.
    """

    segments: pd.DataFrame  # country_code, signup_channel; row s = segment s
    scores: np.ndarray
    levels: np.ndarray
    # What a segment without a row gets, exactly as if its customers had been in the
    # population (no recent buyers: its country's row, or the shop's for an unseen country):
    # one row per country of ``countries``, then the shop's row.
    countries: np.ndarray | None = None
    fallback_scores: np.ndarray | None = None
    fallback_levels: np.ndarray | None = None

    def covering(self, customers: pd.DataFrame) -> Popularity:
        """This popularity with a row for every segment of ``customers`` (customers who were
        not in the population, e.g. signed up since): an unseen segment gets its country's
        row, an unseen country the shop's, as :func:`popularity` would have given them."""
        keys = _segment_keys(customers).drop_duplicates()
        known = pd.MultiIndex.from_frame(self.segments).get_indexer(pd.MultiIndex.from_frame(keys))
        new = keys[known < 0].sort_values(["country_code", "signup_channel"])
        if new.empty:
            return self
        if self.countries is None or self.fallback_scores is None or self.fallback_levels is None:
            raise ValueError("a customer's segment is missing from the popularity table")
        country_rows = pd.Index(self.countries).get_indexer(new["country_code"])
        rows = np.where(country_rows >= 0, country_rows, len(self.countries))
        return Popularity(
            segments=pd.concat([self.segments, new], ignore_index=True),
            scores=np.vstack([self.scores, self.fallback_scores[rows]]),
            levels=np.vstack([self.levels, self.fallback_levels[rows]]),
            countries=self.countries,
            fallback_scores=self.fallback_scores,
            fallback_levels=self.fallback_levels,
        )

    def segment_of(self, customers: pd.DataFrame) -> np.ndarray:
        """Row of ``scores`` for each customer (by country and signup channel)."""
        keys = _segment_keys(customers)
        lookup = self.segments.assign(segment=np.arange(len(self.segments)))
        found = keys.merge(lookup, on=["country_code", "signup_channel"], how="left")
        if found["segment"].isna().any():
            raise ValueError("a customer's segment is missing from the popularity table")
        return found["segment"].to_numpy(dtype=np.int64)

    def reason_texts(self) -> np.ndarray:
        """``texts[s, level]``: why segment ``s`` is shown a product popular at ``level``,
        e.g. ``popular in DE among web sign-ups``, ``popular in DE``, ``popular overall``."""
        texts = np.empty((len(self.segments), 3), dtype=object)
        for s, (country, channel) in enumerate(self.segments.itertuples(index=False)):
            known_country = country != UNKNOWN
            texts[s, 0] = (
                f"popular in {country} among {channel} sign-ups"
                if known_country and channel != UNKNOWN
                else f"popular in {country}" if known_country else "popular overall"
            )
            texts[s, 1] = f"popular in {country}" if known_country else "popular overall"
            texts[s, 2] = "popular overall"
        return texts


def _segment_keys(customers: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "country_code": customers["country_code"].astype(object).fillna(UNKNOWN).astype(str),
            "signup_channel": customers["signup_channel"]
            .astype(object)
            .fillna(UNKNOWN)
            .astype(str),
        }
    ).reset_index(drop=True)


def popularity(
    recent_purchases: pd.DataFrame,
    customers: pd.DataFrame,
    catalog: Catalog,
    *,
    level: str = "segment",
    shrinkage: float = 50.0,
) -> Popularity:
    """Share of recent buyers who bought each product, per segment, shrunk towards the country
    and the country towards the whole shop.

    With ``b`` the recent buyers of a product in a group and ``n`` all recent buyers in it:
    ``global = b / n``; ``country = (b + a·global) / (n + a)``;
    ``segment = (b + a·country) / (n + a)`` with ``a = shrinkage``. A segment with few buyers
    therefore falls back to its country, a country with few buyers to the whole shop, and a
    segment or country with no buyers at all gets exactly the level above. Products nobody
    bought recently tie at the level above; the caller breaks ties by product id.

    Args:
        recent_purchases: One row per (customer, product) bought in the popularity window.
        customers: Every customer that may be recommended for, with ``country_code`` and
            ``signup_channel``; buyers missing from it count only for the global level.
        catalog: Products in matrix order.
        level: ``segment`` (the cold-start policy), ``country`` or ``global`` (baselines):
            every segment then gets the scores of that level.
        shrinkage: Pseudo-count ``a`` (>= 0).
    """
    if level not in POPULARITY_LEVELS:
        raise ValueError(f"unknown popularity level {level!r}: use one of {POPULARITY_LEVELS}")
    if shrinkage < 0:
        raise ValueError(f"shrinkage must be >= 0, got {shrinkage}")
    keys = _segment_keys(customers).assign(
        customer_id=customers["customer_id"].to_numpy(dtype=np.int64)
    )
    segments = (
        keys[["country_code", "signup_channel"]]
        .drop_duplicates()
        .sort_values(["country_code", "signup_channel"])
        .reset_index(drop=True)
    )
    countries = segments["country_code"].drop_duplicates().reset_index(drop=True)

    buyer_ids, bought = purchase_matrix(recent_purchases, catalog)
    bought.data[:] = 1.0
    buyer_keys = pd.DataFrame({"customer_id": buyer_ids}).merge(
        keys, on="customer_id", how="left"
    )

    global_buyers = np.asarray(bought.sum(axis=0)).ravel()
    global_share = global_buyers / max(len(buyer_ids), 1)

    def shrunk(group_codes: np.ndarray, n_groups: int, prior: np.ndarray) -> np.ndarray:
        """Shrunk shares per group; ``prior`` has one row per group (or one row for all)."""
        member = group_codes >= 0
        # Sparse: a dense groups × buyers matrix would cost groups x customers (xl: 40 x 1.6M).
        membership = sparse.csr_matrix(
            (np.ones(int(member.sum())), (group_codes[member], np.flatnonzero(member))),
            shape=(n_groups, len(buyer_ids)),
        )
        counts = (membership @ bought).toarray()  # groups × products, whole numbers of buyers
        n = np.asarray(membership.sum(axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):
            shares = (counts + shrinkage * prior) / (n + shrinkage)
        shares = np.where(n + shrinkage > 0, shares, prior)
        return np.nan_to_num(shares), counts > 0

    country_codes = pd.Categorical(buyer_keys["country_code"], categories=countries).codes
    country_scores, country_has_buyers = shrunk(
        np.asarray(country_codes, dtype=np.int64), len(countries), global_share[None, :]
    )
    segment_country = pd.Categorical(segments["country_code"], categories=countries).codes
    segment_index = pd.MultiIndex.from_frame(segments)
    buyer_segment = segment_index.get_indexer(
        pd.MultiIndex.from_frame(buyer_keys[["country_code", "signup_channel"]])
    )
    segment_scores, segment_has_buyers = shrunk(
        np.asarray(buyer_segment, dtype=np.int64), len(segments), country_scores[segment_country]
    )

    levels = np.where(
        segment_has_buyers, 0, np.where(country_has_buyers[segment_country], 1, 2)
    ).astype(np.int8)
    def unbought(prior: np.ndarray) -> np.ndarray:
        """`shrunk` of a group with no buyers at all (n = 0) over ``prior``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.nan_to_num(np.where(shrinkage > 0, (shrinkage * prior) / shrinkage, prior))

    # The rows of segments not in `segments` (Popularity.covering): an unseen segment of a
    # known country, then an unseen country's segment (a country without buyers under the shop).
    unseen_country = unbought(global_share[None, :])
    fallback_levels = np.vstack([
        np.where(country_has_buyers, 1, 2), np.full((1, catalog.size), 2)
    ]).astype(np.int8)
    if level == "segment":
        scores = segment_scores
        fallback_scores = np.vstack([unbought(country_scores), unbought(unseen_country)])
    elif level == "country":
        scores = country_scores[segment_country]
        levels = np.maximum(levels, 1)
        fallback_scores = np.vstack([country_scores, unseen_country])
    else:
        scores = np.broadcast_to(global_share, (len(segments), catalog.size)).copy()
        levels = np.full_like(levels, 2)
        fallback_scores = np.broadcast_to(global_share, (len(countries) + 1, catalog.size)).copy()
        fallback_levels = np.full_like(fallback_levels, 2)
    return Popularity(
        segments=segments,
        scores=scores,
        levels=levels,
        countries=countries.to_numpy(dtype=object),
        fallback_scores=fallback_scores,
        fallback_levels=fallback_levels,
    )
