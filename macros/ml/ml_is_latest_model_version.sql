{#- True on the latest registry row of each model name (the candidate for promotion): the newest
    trained_at, ties broken by the larger model_version. The same rule as
    retail_ml.ml.champion.champion_changes (Python); a test compares them on the built warehouse. Use in a select list or `qualify`. -#}
{% macro ml_is_latest_model_version(model_name='model_name', trained_at='trained_at', model_version='model_version') -%}
    row_number() over (
        partition by {{ model_name }}
        order by {{ trained_at }} desc, {{ model_version }} desc
    ) = 1
{%- endmacro %}
