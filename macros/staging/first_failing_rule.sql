{#
    `<rule>|<column>` of the first quarantine rule (in order) a raw row breaks, or null when it
    breaks none. Rules are checked in the order given, so each quarantined row carries exactly
    one reason; check_raw_rows splits the pair into quarantine_rule and quarantine_column.
#}
{% macro first_failing_rule(rules) -%}
    case
    {%- for rule in rules %}
        when {{ rule.when }} then '{{ rule.name }}|{{ rule.column }}'
    {%- endfor %}
    end
{%- endmacro %}
