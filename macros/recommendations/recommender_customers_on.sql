{#- The recommender's population on given days (CTEs, the last one named `name`): every
    customer known on the day, with the attributes of their popularity segment in force then.
    One home for the backtest's cutoffs (int_recommender_evaluation_customers) and the serving
    day (int_recommender_serving_customers). -#}
{% macro recommender_customers_on(customers, customer_versions, days, name) %}
{{ name }}_known as (
    select
        {{ customers }}.customer_id,
        {{ days }}.as_of_date
    from {{ customers }}
    inner join {{ days }}
        on {{ customers }}.first_known_date <= {{ days }}.as_of_date
            and {{ customers }}.signup_date <= {{ days }}.as_of_date
),

{{ name }} as (
    select
        {{ name }}_known.customer_id,
        {{ customer_versions }}.country_code,
        {{ customer_versions }}.signup_channel,
        {{ name }}_known.as_of_date
    from {{ name }}_known
    left join {{ customer_versions }}
        on {{ name }}_known.customer_id = {{ customer_versions }}.customer_id
            and {{ name }}_known.as_of_date >= {{ customer_versions }}.valid_from_date
            -- No OR in the join (an open version has no valid_to_date): a range join, not a
            -- nested loop over every customer's versions.
            and {{ name }}_known.as_of_date
            < coalesce({{ customer_versions }}.valid_to_date, cast('9999-12-31' as date))
)
{%- endmacro %}
