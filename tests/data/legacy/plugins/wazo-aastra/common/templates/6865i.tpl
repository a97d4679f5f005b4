{% extends 'base.tpl' %}

{% block model_settings -%}
# 6865i: 8 programmable keys
prgkey8 type: none
{% endblock %}
