{#
    The name of the first quarantine rule a raw row breaks, or null when it breaks none.
    Rules are checked in the order given, so each quarantined row carries exactly one reason.
#}
{% macro first_failing_rule(rules) -%}
    case
    {%- for rule in rules %}
        when {{ rule.when }} then '{{ rule.name }}'
    {%- endfor %}
    end
{%- endmacro %}
