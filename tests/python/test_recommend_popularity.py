"""Tests for retail_ml.recommend.popularity: segment shares shrunk to country and shop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retail_ml.recommend.inputs import Catalog
from retail_ml.recommend.popularity import popularity


def catalog(n: int) -> Catalog:
    ids = np.arange(1, n + 1, dtype=np.int64)
    return Catalog(
        product_ids=ids,
        product_names=np.array([f"P{p}" for p in ids], dtype=object),
        categories=np.array(["c"] * n, dtype=object),
        is_repurchase_typical=np.zeros(n, dtype=bool),
        is_launched=np.ones(n, dtype=bool),
    )


CUSTOMERS = pd.DataFrame(
    {
        "customer_id": [1, 2, 3, 4, 5],
        "country_code": ["DE", "DE", "DE", "FR", None],
        "signup_channel": ["web", "web", "social", "web", "web"],
    }
)
# DE/web buy 1 (both) and 2 (one); DE/social buys 3; FR/web buys 2.
RECENT = pd.DataFrame(
    [(1, 1), (2, 1), (2, 2), (3, 3), (4, 2)], columns=["customer_id", "product_id"]
)


def scores_of(result, country, channel):
    segments = result.segments
    row = np.flatnonzero(
        (segments["country_code"] == country) & (segments["signup_channel"] == channel)
    )[0]
    return result.scores[row], result.levels[row]


def test_without_shrinkage_segment_shares_are_plain_shares():
    result = popularity(RECENT, CUSTOMERS, catalog(4), shrinkage=0.0)
    scores, levels = scores_of(result, "DE", "web")
    np.testing.assert_allclose(scores, [1.0, 0.5, 0.0, 0.0])
    assert levels.tolist() == [0, 0, 1, 2]


def test_shrinkage_pulls_segment_to_country_and_country_to_shop():
    a = 2.0
    result = popularity(RECENT, CUSTOMERS, catalog(4), shrinkage=a)
    shop = np.array([2, 2, 1, 0]) / 4
    germany = (np.array([2, 1, 1, 0]) + a * shop) / (3 + a)
    de_web = (np.array([2, 1, 0, 0]) + a * germany) / (2 + a)
    np.testing.assert_allclose(scores_of(result, "DE", "web")[0], de_web)


def test_segment_without_buyers_gets_exactly_its_country_and_unknown_country_the_shop():
    customers = pd.concat(
        [CUSTOMERS, pd.DataFrame({"customer_id": [9], "country_code": ["FR"],
                                  "signup_channel": ["referral"]})],
        ignore_index=True,
    )
    result = popularity(RECENT, customers, catalog(4), shrinkage=3.0)
    fr_web, _ = scores_of(result, "FR", "web")
    fr_referral, levels = scores_of(result, "FR", "referral")
    france = (np.array([0, 1, 0, 0]) + 3.0 * np.array([2, 2, 1, 0]) / 4) / (1 + 3.0)
    np.testing.assert_allclose(fr_referral, france)
    assert levels.tolist() == [2, 1, 2, 2]
    assert not np.allclose(fr_web, fr_referral)
    unknown, unknown_levels = scores_of(result, "unknown", "web")
    np.testing.assert_allclose(unknown, np.array([2, 2, 1, 0]) / 4)


def test_reason_texts_name_the_level():
    result = popularity(RECENT, CUSTOMERS, catalog(4))
    texts = result.reason_texts()
    row = result.segment_of(CUSTOMERS.iloc[[0]])[0]
    assert texts[row].tolist() == [
        "popular in DE among web sign-ups", "popular in DE", "popular overall"
    ]
    unknown_row = result.segment_of(CUSTOMERS.iloc[[4]])[0]
    assert set(texts[unknown_row]) == {"popular overall"}


def test_baseline_levels_share_scores_across_segments():
    country = popularity(RECENT, CUSTOMERS, catalog(4), level="country", shrinkage=0.0)
    de_web, _ = scores_of(country, "DE", "web")
    de_social, _ = scores_of(country, "DE", "social")
    np.testing.assert_allclose(de_web, de_social)
    shop = popularity(RECENT, CUSTOMERS, catalog(4), level="global")
    assert np.allclose(shop.scores, shop.scores[0])


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="popularity level"):
        popularity(RECENT, CUSTOMERS, catalog(4), level="city")
    with pytest.raises(ValueError, match="shrinkage"):
        popularity(RECENT, CUSTOMERS, catalog(4), shrinkage=-1)
