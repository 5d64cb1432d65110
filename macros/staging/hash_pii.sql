{#
    One-way pseudonym for a PII string: SHA-256 of the trimmed, lower-cased value, so the same
    address typed in different case joins to the same hash. The raw value never leaves staging.
#}
{% macro hash_pii(column) -%}
    sha256(lower(trim({{ column }})))
{%- endmacro %}
