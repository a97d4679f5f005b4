{#- One phone setting, its value escaped; idx for per-line settings. -#}
{% macro setting(name, value, idx=none) -%}
<{{ name }}{% if idx is not none %} idx="{{ idx }}"{% endif %} perm="R">{{ value|e }}</{{ name }}>
{%- endmacro %}
