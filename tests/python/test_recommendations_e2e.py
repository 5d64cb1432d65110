"""End to end: the product features, the recommender's SQL inputs and the recommendations
`dbt build` made on small data.

The build already ran the dbt tests (grain, ranges, relationships); these check, independently
of dbt and of the package's code paths, what a user of the tables relies on.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest

from retail_ml.ml import arrow_to_model_frame
from retail_ml.recommend import recommend_for_serving

pytestmark = pytest.mark.e2e


def frame(con, sql: str, params: list | None = None) -> pd.DataFrame:
    return arrow_to_model_frame(con.execute(sql, params or []).to_arrow_table())


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
    """As of the oldest backtest cutoff (a past day), from the SQL inputs the warehouse holds."""
    with built_warehouse.connect() as con:
        cutoff = con.execute(
            "select min(cutoff_date) from int_recommender_backtest_windows"
        ).fetchone()[0]
        customers = frame(
            con, "select * from int_recommender_evaluation_customers where as_of_date = ?",
            [cutoff],
        )
        recommendations = recommend_for_serving(
            customers,
            frame(con, "select * from int_recommender_order_lines"),
            frame(con, "select * from int_product_catalogue_requested"),
            frame(con, "select * from ml_recommendation_metrics"),
        )
        products = frame(con, "select * from stg_shop__products")
    later = products.loc[products["launched_at"] >= pd.Timestamp(cutoff) + pd.Timedelta(days=1)]
    assert len(later) > 0, "the small data has products launching after the cutoff"
    assert not recommendations["product_id"].isin(later["product_id"]).any()
    assert (recommendations.groupby("customer_id").size() == 10).all()
    assert (recommendations["as_of_date"] == cutoff).all()


def test_recommender_inputs_are_point_in_time(built_warehouse):
    """The SQL inputs, recomputed from staged rows: the windows (ending on the latest landed
    month-end), the order lines with the day each became known, the products known (landed) on
    each date and which are on sale (launched too), each window's population and what it
    bought in its label period."""
    with built_warehouse.connect() as con:
        windows = frame(con, "select * from int_recommender_backtest_windows order by 1")
        latest, evaluation_cutoff = con.execute(
            "select max(as_of_date) filter (where is_latest),"
            " max(as_of_date) filter (where is_recommender_evaluation)"
            " from int_feature_dates_requested"
        ).fetchone()
        line_differences = con.execute(
            """
            with expected as (
                select customer_id, order_id, product_id, min(order_date) as order_date,
                    min(greatest(cast(known_at as date), order_date)) as known_date,
                    min(greatest(cast(cancellation_known_at as date), cast(cancelled_at as date)))
                        as retracted_date
                from int_order_lines_netted
                group by all
            )
            select count(*) from (
                (select * from expected except select * from int_recommender_order_lines)
                union all
                (select * from int_recommender_order_lines except select * from expected)
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
        # Each date's catalogue: exactly the products whose row landed by its end.
        catalogue_differences = con.execute(
            """
            with dates as (
                select distinct as_of_date from int_product_catalogue_requested
            ),
            expected as (
                select p.product_id, d.as_of_date
                from stg_shop__products as p
                inner join dates as d on cast(p.loaded_at as date) <= d.as_of_date
            ),
            listed as (
                select product_id, as_of_date from int_product_catalogue_requested
            )
            select (select count(*) from dates), count(*) filter (where side = 'missing'),
                count(*) filter (where side = 'unknown'),
                (select count(*) from dates where as_of_date
                    < (select max(cast(loaded_at as date)) from stg_shop__products))
            from (
                (select 'missing' as side, * from (from expected except all from listed))
                union all
                (select 'unknown' as side, * from (from listed except all from expected))
            )
            """
        ).fetchone()
        outside = con.execute(
            """
            select count(*)
            from int_recommender_evaluation_purchases as e
            inner join int_recommender_backtest_windows as w on e.cutoff_date = w.cutoff_date
            where not exists (
                select 1 from int_order_lines_netted as l
                where l.customer_id = e.customer_id and l.product_id = e.product_id
                    and not l.is_cancelled
                    and l.order_date > w.cutoff_date and l.order_date <= w.evaluation_end_date
            )
            """
        ).fetchone()[0]
        unknown_buyers = con.execute(
            """
            select count(*) from int_recommender_evaluation_purchases as e
            left join int_recommender_evaluation_customers as c
                on e.customer_id = c.customer_id and e.cutoff_date = c.as_of_date
            left join int_customers_signed_up as s on e.customer_id = s.customer_id
            where c.customer_id is null or s.first_known_date > e.cutoff_date
            """
        ).fetchone()[0]
    assert windows["window_number"].tolist() == [1, 2, 3, 4]
    assert windows["window_role"].tolist() == ["tuning", "reported", "reported", "reported"]
    cutoffs, ends = list(windows["cutoff_date"]), list(windows["evaluation_end_date"])
    # The newest label period ends on the latest month-end with 7 days (the lateness margin)
    # between it and the latest complete day.
    landed_by = latest - timedelta(days=7)
    assert ends[-1] == (landed_by + timedelta(days=1)).replace(day=1) - timedelta(days=1)
    assert ends[-1] < latest and cutoffs[-1] == evaluation_cutoff
    assert ends[:-1] == cutoffs[1:], "consecutive, non-overlapping label periods"
    lengths = [(pd.Timestamp(e) - pd.Timestamp(c)).days for c, e in zip(cutoffs, ends, strict=True)]
    assert lengths == [30] * 4
    assert line_differences == 0
    assert wrongly_launched == 0
    dates, missing, unknown, dates_before_a_landing = catalogue_differences
    assert dates == 5, "serving day + 4 cutoffs"
    assert (missing, unknown) == (0, 0), "each date lists exactly the products known by it"
    assert dates_before_a_landing > 0, "the small data lands products after a cutoff"
    assert outside == 0 and unknown_buyers == 0


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
        again = recommend_for_serving(
            frame(con, "select * from feat_customer_serving"),
            frame(con, "select * from int_recommender_order_lines"),
            frame(con, "select * from int_product_catalogue_requested"),
            frame(con, "select * from ml_recommendation_metrics"),
        )
    pd.testing.assert_frame_equal(
        table.reset_index(drop=True), again.reset_index(drop=True), check_dtype=False
    )


def test_backtest_reports_every_window_method_and_metric_with_intervals(built_warehouse):
    with built_warehouse.connect() as con:
        metrics = frame(con, "select * from ml_recommendation_metrics")
        buyers = frame(
            con,
            "select cutoff_date, count(distinct customer_id) as n"
            " from int_recommender_evaluation_purchases group by 1",
        )
    assert len(metrics) == 4 * 6 * 2
    assert not metrics.duplicated(["window_number", "method", "metric"]).any()
    assert metrics["value"].between(0, 1).all()
    assert (metrics["ci_lower"] <= metrics["value"]).all()
    assert (metrics["value"] <= metrics["ci_upper"]).all()
    assert (metrics["ci_upper"] - metrics["ci_lower"] > 0).all()
    evaluated = metrics.drop_duplicates("cutoff_date").set_index("cutoff_date")
    expected = buyers.set_index("cutoff_date")["n"]
    assert evaluated["customers_evaluated"].sort_index().tolist() == expected.sort_index().tolist()
    assert metrics["customers_evaluated"].min() > 100
    assert metrics.loc[metrics["is_served_method"], "method"].unique().tolist() == ["blend"]
    tuned = metrics.loc[metrics["method"] == "blend", "parameters_json"].unique()
    assert len(tuned) == 1 and json.loads(tuned[0])["method"] == "blend"
    reported = metrics[metrics["window_role"] == "reported"]
    mean = reported.groupby(["method", "metric"])["value"].mean()
    for metric in ["hit_rate_at_10", "recall_at_10"]:
        for baseline in ["popularity_global", "popularity_country", "popularity_segment"]:
            assert mean["blend", metric] > mean[baseline, metric], (metric, baseline)


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
