{#- The manifest node of the model whose relation is `relation` (matched on schema and alias). -#}
{% macro ml_model_node_of(relation) %}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
              and (node.alias | lower) == (relation.identifier | lower)
              and (node.schema | lower) == (relation.schema | lower) -%}
            {{- return(node) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- exceptions.raise_compiler_error("columns_match_yaml: no model node for relation " ~ relation) -}}
{% endmacro %}
