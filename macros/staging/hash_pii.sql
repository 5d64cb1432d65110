{#
    Keyed pseudonym for a PII string: HMAC-SHA-256 (RFC 2104) of the trimmed, lower-cased value,
    as 64 hex characters, so the same address typed in different case gets the same pseudonym,
    and nobody without the key can recompute it from a guessed e-mail or name. The raw value
    never leaves staging.

    The key is never in the SQL: the dbt-duckdb plugin retail_ml.pii_key (profiles.yml) sets
    the HMAC's padded inner/outer keys as session variables on every connection, from
    RETAIL_ML_PII_KEY or the git-ignored key file .secrets/pii.key (created on first build).
    Without them the query fails instead of writing null pseudonyms.
#}
{% macro hash_pii(column) -%}
    {{ return(adapter.dispatch('hash_pii', 'retail_ml')(column)) }}
{%- endmacro %}

{% macro default__hash_pii(column) -%}
    {{ exceptions.raise_compiler_error("hash_pii: no keyed HMAC implementation for " ~ target.type ~ "; add a dispatched one (e.g. Spark: a key from a secret scope and sha2(hmac))") }}
{%- endmacro %}

{% macro duckdb__hash_pii(column) -%}
    sha256(
        coalesce(cast(getvariable('retail_ml_pii_opad') as blob), error('hash_pii: no PII key; set RETAIL_ML_PII_KEY or enable the retail_ml.pii_key plugin in profiles.yml'))
        || unhex(sha256(
            coalesce(cast(getvariable('retail_ml_pii_ipad') as blob), error('hash_pii: no PII key'))
            || encode(lower(trim({{ column }})))
        ))
    )
{%- endmacro %}
