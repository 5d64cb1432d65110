{#
    The as-of dates assert_feat_customer_daily_equals_requested_features compares (`requested`:
    int_feature_dates_requested), as strings. Every run: the dates that are not training cutoffs
    (the serving day, the recommender's evaluation cutoff, extra dates). A full refresh adds the
    earliest and the latest training cutoff. A daily run after a green one (docs:
    incremental_tests) leaves out the evaluation cutoff when it is the one that run held: the
    run kept its rows, which the run that wrote them checked.
#}
{% macro equality_check_dates(requested) -%}
    {%- set checked = checked_through() %}
    {%- set query %}
        select cast(as_of_date as varchar) from {{ requested }}
        where not is_training_cutoff
        {%- if flags.FULL_REFRESH %}
            or as_of_date = (select min(as_of_date) from {{ requested }} where is_training_cutoff)
            or as_of_date = (select max(as_of_date) from {{ requested }} where is_training_cutoff)
        {%- elif checked is not none %}
            {#- That run's cutoff: of its last day, which int_feature_dates_spined derived from
                the orders landed before its clock. #}
            and not (is_recommender_evaluation and as_of_date = (
                select {{ recommender_evaluation_cutoff('previous_run.last_date') }}
                from (
                    select least(
                        max(cast(loaded_at as date)),
                        {{ pit_add_days("cast(cast('" ~ checked ~ "' as timestamp) as date)", -1) }}
                    ) as last_date
                    from {{ ref('stg_shop__orders') }}
                    where loaded_at < cast('{{ checked }}' as timestamp)
                ) as previous_run
            ))
        {%- endif %}
        order by as_of_date
    {%- endset %}
    {{ return(run_query(query).columns[0].values()) }}
{%- endmacro %}
