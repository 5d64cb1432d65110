{#
    The domain of every raw column of the `shop` source: the one home of the quarantine rules.

    check_raw_rows derives each table's rules from this spec, the pre-flight schema check
    (src/retail_ml/raw_contract.py) reads the types from it, the pandas reference notebook
    evaluates the same domains, and docs/raw_data_contract.md lists them (a test keeps the page
    in step). The YAML between the `set spec` markers is read as text by Python: keep it plain
    YAML, no Jinja inside.

    Per table:
      key:         the grain; a null part is `null_key`, a later copy a duplicate
      unique:      another uniqueness rule among staged rows ({columns, rule})
      columns:     column -> domain:
        type       Arrow type in the landing zone (int32, int64, double, string, bool,
                   timestamp, list<int64>); the pre-flight check compares files against it
        nullable   default false: null is `missing_value`
        min, max   numbers: inclusive range (`out_of_range`); doubles must be finite (`not_finite`)
        max_length strings: `too_long`; every string must be non-blank unless allow_blank
        format     strings: a regex the trimmed value must fully match (`malformed`)
        accepted   accepted values (`not_accepted`)
        reference  {seed, match: {raw column: seed column}}: the value (with the other raw columns
                   of `match`) must be in the seed (`not_accepted`)
        parent     {table, match: {raw column: parent column}[, columns]}: must be a key of a
                   parent table: `unknown_<parent>` (e.g. unknown_order) when the parent never
                   landed, `parent_quarantined` when every copy of it was quarantined; `columns`
                   of the staged parent are available to checks as `<column>_parent.<name>`
        event_time business timestamp: not before var shop_opening_date (`before_opening`),
                   not after the row's _loaded_at + lead_days (`future_timestamp`)
        max_items  lists: at most this many elements, none null or < item_min (`out_of_range`)
        pii        hash (keyed HMAC-SHA-256, macro hash_pii, in staging and in the quarantine
                   JSON), drop (hashed in the quarantine JSON only), or length (only
                   the length is kept)
      checks:      relations between columns of the row and its looked-up parents
                   ({name, columns, when}: the row is quarantined when `when` holds)
      lookups:     other rows a check needs ({alias, table, match, columns, missing_rule, column}):
                   the row is quarantined as missing_rule when no such row landed, as
                   parent_quarantined when it was quarantined
#}
{% macro shop_raw_domains() %}
{%- set spec -%}
customers:
  key: [id, updated_at]
  columns:
    id: {type: int64, min: 1}
    email: {type: string, max_length: 254, format: '[^@\s]+@[^@\s]+\.[^@\s]+', pii: hash}
    full_name: {type: string, max_length: 200, pii: drop}
    country: {type: string, reference: {seed: countries, match: {country: country_code}}}
    signup_channel: {type: string, accepted: [web, mobile_app, marketplace, referral, social]}
    signup_at: {type: timestamp, event_time: true}
    marketing_opt_in: {type: bool}
    updated_at: {type: timestamp, event_time: true}
    _loaded_at: {type: timestamp, load_time: true}
  checks:
    - name: updated_before_signup
      columns: [updated_at, signup_at]
      when: source.updated_at < source.signup_at

products:
  key: [id]
  columns:
    id: {type: int64, min: 1}
    name: {type: string, max_length: 200}
    category: {type: string, reference: {seed: product_categories, match: {category: category}}}
    subcategory: {type: string, reference: {seed: product_categories, match: {category: category, subcategory: subcategory}}}
    brand: {type: string, max_length: 100}
    list_price: {type: double, min: 0, max: 100000}
    launched_at: {type: timestamp, event_time: true, lead_days: 365}
    _loaded_at: {type: timestamp, load_time: true}

orders:
  key: [id, updated_at]
  columns:
    id: {type: int64, min: 1}
    customer_id: {type: int64, parent: {table: customers, match: {customer_id: id}}}
    ordered_at: {type: timestamp, event_time: true}
    channel: {type: string, accepted: [web, mobile_app, marketplace]}
    status: {type: string, accepted: [placed, shipped, delivered, cancelled]}
    currency: {type: string, reference: {seed: currencies, match: {currency: currency_code}}}
    shipping_amount: {type: double, nullable: true, min: 0, max: 10000}
    tax_amount: {type: double, nullable: true, min: 0, max: 100000}
    discount_code: {type: string, nullable: true, max_length: 32, format: '[A-Za-z0-9_-]+'}
    updated_at: {type: timestamp, event_time: true}
    _loaded_at: {type: timestamp, load_time: true}
  checks:
    - name: updated_before_ordered
      columns: [updated_at, ordered_at]
      when: source.updated_at < source.ordered_at

order_items:
  key: [order_id, line_number]
  unique:
    - {columns: [order_id, product_id], rule: product_repeated_in_order}
  columns:
    order_id: {type: int64, min: 1, parent: {table: orders, match: {order_id: id}}}
    line_number: {type: int32, min: 1, max: 1000}
    product_id: {type: int64, min: 1, parent: {table: products, match: {product_id: id}}}
    quantity: {type: int32, min: 1, max: 1000}
    unit_price: {type: double, min: 0, max: 100000}
    discount_amount: {type: double, nullable: true, min: 0, max: 100000000}
    _loaded_at: {type: timestamp, load_time: true}
  checks:
    - name: discount_exceeds_line
      columns: [discount_amount]
      when: source.discount_amount > source.quantity * source.unit_price

returns:
  key: [id]
  columns:
    id: {type: int64, min: 1}
    order_id: {type: int64, min: 1, parent: {table: orders, match: {order_id: id}, columns: [ordered_at]}}
    product_id: {type: int64, min: 1, parent: {table: products, match: {product_id: id}}}
    returned_at: {type: timestamp, event_time: true}
    quantity: {type: int32, min: 1, max: 1000}
    refund_amount: {type: double, min: 0, max: 100000}
    _loaded_at: {type: timestamp, load_time: true}
  lookups:
    - {alias: order_line, table: order_items, match: {order_id: order_id, product_id: product_id}, columns: [quantity, unit_price, discount_amount], missing_rule: product_not_in_order, column: product_id}
  checks:
    - name: returned_before_ordered
      columns: [returned_at]
      when: source.returned_at < order_id_parent.ordered_at
    - name: return_exceeds_ordered
      columns: [quantity]
      when: source.quantity > order_line.quantity
    - name: refund_exceeds_paid
      columns: [refund_amount]
      when: source.refund_amount > source.quantity * (order_line.unit_price - coalesce(order_line.discount_amount, 0) / order_line.quantity) + 0.01

reviews:
  key: [id]
  columns:
    id: {type: int64, min: 1}
    customer_id: {type: int64, parent: {table: customers, match: {customer_id: id}}}
    product_id: {type: int64, parent: {table: products, match: {product_id: id}}}
    rating: {type: int32, min: 1, max: 5}
    review_text: {type: string, nullable: true, allow_blank: true, max_length: 10000, pii: length}
    created_at: {type: timestamp, event_time: true}
    _loaded_at: {type: timestamp, load_time: true}

web_sessions:
  key: [id]
  columns:
    id: {type: int64, min: 1}
    customer_id: {type: int64, nullable: true, parent: {table: customers, match: {customer_id: id}}}
    started_at: {type: timestamp, event_time: true}
    pages_viewed: {type: int32, min: 1, max: 10000}
    viewed_product_ids: {type: list<int64>, max_items: 1000, item_min: 1}
    _loaded_at: {type: timestamp, load_time: true}
  checks:
    - name: more_products_than_pages
      columns: [viewed_product_ids, pages_viewed]
      when: len(source.viewed_product_ids) > source.pages_viewed
{%- endset -%}
{{ return(fromyaml(spec)) }}
{% endmacro %}
