"""End to end: the product features, the recommender's SQL inputs and the recommendations
`dbt build` made on small data.

The build already ran the dbt tests (grain, ranges, relationships); these check, independently
of dbt and of the package's code paths, what a user of the tables relies on.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from retail_ml.ml import arrow_to_model_frame
from retail_ml.recommend import recommend_for_serving

pytestmark = pytest.mark.e2e

MODELS_YML = (
    Path(__file__).resolve().parents[2]
    / "python_models" / "recommendations" / "_recommendations__models.yml"
)


def frame(con, sql: str, params: list | None = None) -> pd.DataFrame:
    return arrow_to_model_frame(con.execute(sql, params or []).to_arrow_table())


def served_parameters() -> dict:
    """The recommender parameters ml_product_recommendations is configured with."""
    properties = yaml.safe_load(MODELS_YML.read_text())
    model = next(m for m in properties["models"] if m["name"] == "ml_product_recommendations")
    return model["config"]["recommender"]


def test_every_served_customer_gets_ten_distinct_ranked_products(built_warehouse):
    with built_warehouse.connect() as con:
        per_customer = frame(
            con,
            """
            select
                s.customer_id,
                count(r.product_id) as n,
                count(distinct r.product_id) as n_products,
                min(r.rank) as min_rank, max(r.rank) as max_rank,
                bool_and(r.as_of_date = s.as_of_date) as same_day
            from feat_customer_serving as s
            left join ml_product_recommendations as r on s.customer_id = r.customer_id
            group by s.customer_id
            """,
        )
        strays = con.execute(
            "select count(*) from ml_product_recommendations"
            " where customer_id not in (select customer_id from feat_customer_serving)"
        ).fetchone()[0]
    assert len(per_customer) > 0 and strays == 0
    assert (per_customer["n"] == 10).all()
    assert (per_customer["n_products"] == 10).all()
    assert (per_customer["min_rank"] == 1).all() and (per_customer["max_rank"] == 10).all()
    assert per_customer["same_day"].all()


def test_scores_decrease_with_rank(built_warehouse):
    with built_warehouse.connect() as con:
        increases = con.execute(
            """
            select count(*) from (
                select score - lag(score) over (partition by customer_id order by rank) as change
                from ml_product_recommendations
            ) where change > 0
            """
        ).fetchone()[0]
    assert increases == 0


def test_no_unlaunched_product_is_recommended(built_warehouse):
    with built_warehouse.connect() as con:
        unlaunched = con.execute(
            """
            select count(*)
            from ml_product_recommendations as r
            inner join stg_shop__products as p on r.product_id = p.product_id
            where cast(p.launched_at as date) > r.as_of_date
            """
        ).fetchone()[0]
    assert unlaunched == 0


def test_products_launching_later_are_not_recommended_earlier(built_warehouse):
    """As of the evaluation cutoff (a past day), from the SQL inputs the warehouse holds for it."""
    with built_warehouse.connect() as con:
        customers = frame(con, "select * from int_recommender_evaluation_customers")
        cutoff = customers["as_of_date"].iloc[0]
        recommendations = recommend_for_serving(
            customers,
            frame(con, "select * from int_customer_products_purchased"),
            frame(con, "select * from int_product_catalogue_requested"),
            parameters=served_parameters(),
        )
        products = frame(con, "select * from stg_shop__products")
    later = products.loc[products["launched_at"] >= pd.Timestamp(cutoff) + pd.Timedelta(days=1)]
    assert len(later) > 0, "the small data has products launching after the cutoff"
    assert not recommendations["product_id"].isin(later["product_id"]).any()
    assert (recommendations.groupby("customer_id").size() == 10).all()
    assert (recommendations["as_of_date"] == cutoff).all()


def test_recommender_inputs_are_point_in_time(built_warehouse):
    """The SQL inputs, recomputed from staged rows: purchases known by each recommender date,
    products on sale (launched and landed) on it, the evaluation window after the cutoff."""
    with built_warehouse.connect() as con:
        dates = frame(
            con,
            "select as_of_date, is_latest from int_feature_dates_requested"
            " where is_latest or is_recommender_evaluation",
        )
        differences = con.execute(
            """
            with dates as (
                select as_of_date from int_feature_dates_requested
                where is_latest or is_recommender_evaluation
            ),
            expected as (
                select l.customer_id, l.product_id, max(l.order_date) as last_order_date,
                    d.as_of_date
                from int_order_lines_netted as l
                inner join dates as d
                    on l.order_date <= d.as_of_date and cast(l.known_at as date) <= d.as_of_date
                where not l.is_cancelled
                group by all
            )
            select count(*) from (
                (select * from expected except select * from int_customer_products_purchased)
                union all
                (select * from int_customer_products_purchased except select * from expected)
            )
            """
        ).fetchone()[0]
        wrongly_launched = con.execute(
            """
            select count(*)
            from int_product_catalogue_requested as c
            inner join stg_shop__products as p on c.product_id = p.product_id
            where c.is_launched <> (cast(p.launched_at as date) <= c.as_of_date
                and cast(p.loaded_at as date) <= c.as_of_date)
            """
        ).fetchone()[0]
        catalogue_sizes = con.execute(
            "select count(distinct as_of_date), min(n), max(n), (select count(*) from"
            " stg_shop__products) from (select as_of_date, count(*) as n"
            " from int_product_catalogue_requested group by as_of_date)"
        ).fetchone()
        window = con.execute(
            "select min(order_date), max(order_date), min(cutoff_date), min(evaluation_end_date)"
            " from int_recommender_evaluation_purchases as e inner join int_order_lines_netted"
            " as l on e.customer_id = l.customer_id and e.product_id = l.product_id"
            " and l.order_date > e.cutoff_date and not l.is_cancelled"
        ).fetchone()
    assert len(dates) == 2
    latest = dates.loc[dates["is_latest"] == 1, "as_of_date"].iloc[0]
    cutoff = dates.loc[dates["is_latest"] == 0, "as_of_date"].iloc[0]
    assert (pd.Timestamp(latest) - pd.Timestamp(cutoff)).days == 30
    assert differences == 0
    assert wrongly_launched == 0
    assert catalogue_sizes == (2, catalogue_sizes[3], catalogue_sizes[3], catalogue_sizes[3])
    assert window[2] == cutoff and window[3] == latest
    assert window[0] > cutoff and window[1] <= latest


def test_bought_products_come_back_only_when_repurchase_typical(built_warehouse):
    with built_warehouse.connect() as con:
        rebought = frame(
            con,
            """
            select distinct r.customer_id, r.product_id, r.reason, c.is_repurchase_typical
            from ml_product_recommendations as r
            inner join int_order_lines_netted as l
                on r.customer_id = l.customer_id and r.product_id = l.product_id
            inner join stg_shop__products as p on r.product_id = p.product_id
            inner join product_categories as c
                on p.category = c.category and p.subcategory = c.subcategory
            where not l.is_cancelled
              and l.order_date <= r.as_of_date
              and cast(l.known_at as date) <= r.as_of_date
            """,
        )
    assert len(rebought) > 0, "repurchase-typical products are recommended again"
    assert rebought["is_repurchase_typical"].all()


def test_new_customers_get_popular_products(built_warehouse):
    with built_warehouse.connect() as con:
        new = frame(
            con,
            """
            select r.customer_id, r.reason
            from ml_product_recommendations as r
            inner join feat_customer_serving as s on r.customer_id = s.customer_id
            where s.signup_date = s.as_of_date and s.orders_lifetime = 0
            """,
        )
    assert new["customer_id"].nunique() > 0, "customers who signed up today are served"
    assert new["reason"].str.startswith("popular").all()


def test_recommendations_are_reproducible_from_the_warehouse(built_warehouse):
    """Same inputs, same rows: rebuilt from the warehouse tables in another process."""
    with built_warehouse.connect() as con:
        table = frame(con, "select * from ml_product_recommendations order by customer_id, rank")
        parameters = served_parameters()
        again = recommend_for_serving(
            frame(con, "select * from feat_customer_serving"),
            frame(con, "select * from int_customer_products_purchased"),
            frame(con, "select * from int_product_catalogue_requested"),
            parameters=parameters,
        )
    pd.testing.assert_frame_equal(
        table.reset_index(drop=True), again.reset_index(drop=True), check_dtype=False
    )


def test_metrics_compare_copurchase_with_popularity(built_warehouse):
    with built_warehouse.connect() as con:
        metrics = frame(con, "select * from ml_recommendation_metrics")
    assert len(metrics) == 10 and not metrics.duplicated(["method", "metric"]).any()
    assert metrics["value"].between(0, 1).all()
    assert metrics["customers_evaluated"].min() > 100
    with built_warehouse.connect() as con:
        buyers = con.execute(
            "select count(distinct customer_id) from int_recommender_evaluation_purchases"
        ).fetchone()[0]
    assert (metrics["customers_evaluated"] == buyers).all()
    value = metrics.set_index(["method", "metric"])["value"]
    assert metrics.loc[metrics["is_served_method"], "method"].unique().tolist() == [
        "copurchase_cosine"
    ]
    for metric in ["hit_rate_at_10", "recall_at_10"]:
        assert value["copurchase_cosine", metric] > value["popularity_global", metric], metric
        assert value["copurchase_cosine", metric] > value["popularity_country", metric], metric


@pytest.mark.parametrize("as_of", ["2025-12-03", "2026-03-31", "2026-08-15", "2026-11-25"])
def test_product_features_are_point_in_time(built_warehouse, as_of):
    """units, net sales, buyers and reviews recomputed from staged rows known by the as-of day."""
    with built_warehouse.connect() as con:
        mismatches = frame(
            con,
            """
            with lines as (
                select product_id, customer_id, quantity, net_sales_eur, order_date
                from int_order_lines_netted
                where order_date between cast(? as date) - 29 and cast(? as date)
                  and cast(known_at as date) <= cast(? as date)
                  -- the status known by the day: a line counts until its cancellation landed
                  and coalesce(greatest(cast(cancellation_known_at as date),
                                        cast(cancelled_at as date)) > cast(? as date), true)
            ),
            refunds as (
                select product_id, sum(refund_eur) as refunds_30d
                from int_refunds_converted
                where return_date between cast(? as date) - 29 and cast(? as date)
                  and cast(known_at as date) <= cast(? as date)
                group by product_id
            ),
            reviews as (
                select product_id, count(*) as reviews, avg(rating) as avg_rating
                from stg_shop__reviews
                where cast(created_at as date) <= cast(? as date)
                  and cast(loaded_at as date) <= cast(? as date)
                group by product_id
            ),
            expected as (
                select
                    p.product_id,
                    coalesce(sum(l.quantity), 0) as units_30d,
                    coalesce(sum(l.quantity) filter (where l.order_date > cast(? as date) - 7), 0)
                        as units_7d,
                    coalesce(sum(l.net_sales_eur), 0) as line_sales_30d,
                    count(distinct l.customer_id) as buyers_30d,
                from stg_shop__products as p
                left join lines as l on p.product_id = l.product_id
                group by p.product_id
            )
            select f.product_id, f.units_7d, e.units_7d as expected_units_7d,
                f.units_30d, e.units_30d as expected_units_30d,
                f.net_sales_30d, e.line_sales_30d - coalesce(r.refunds_30d, 0) as expected_net,
                f.distinct_buyers_30d, e.buyers_30d,
                f.reviews_lifetime, coalesce(v.reviews, 0) as expected_reviews
            from feat_product_daily as f
            inner join expected as e on f.product_id = e.product_id
            left join refunds as r on f.product_id = r.product_id
            left join reviews as v on f.product_id = v.product_id
            where f.as_of_date = cast(? as date)
              and (f.units_7d <> e.units_7d
                or f.units_30d <> e.units_30d
                or f.net_sales_30d <> e.line_sales_30d - coalesce(r.refunds_30d, 0)
                or f.distinct_buyers_30d <> e.buyers_30d
                or f.reviews_lifetime <> coalesce(v.reviews, 0)
                or abs(coalesce(f.avg_rating_lifetime, 0) - coalesce(v.avg_rating, 0)) > 1e-9
                or (f.avg_rating_lifetime is null) <> (v.avg_rating is null))
            """,
            [as_of] * 11,
        )
        rows = con.execute(
            "select count(*) from feat_product_daily where as_of_date = cast(? as date)", [as_of]
        ).fetchone()[0]
        launched = con.execute(
            "select count(*) from stg_shop__products"
            " where cast(launched_at as date) <= cast(? as date)",
            [as_of],
        ).fetchone()[0]
    assert mismatches.empty, mismatches.head().to_string()
    assert rows == launched, "one row per product launched by the day"


def test_popularity_rank_orders_each_category(built_warehouse):
    with built_warehouse.connect() as con:
        latest = frame(
            con,
            """
            select category, product_id, units_30d, net_sales_30d, popularity_rank_in_category
            from feat_product_daily where is_latest
            """,
        )
    for _, products in latest.groupby("category"):
        expected = products.sort_values(
            ["units_30d", "net_sales_30d", "product_id"], ascending=[False, False, True]
        )
        assert expected["popularity_rank_in_category"].tolist() == list(
            range(1, len(products) + 1)
        )
