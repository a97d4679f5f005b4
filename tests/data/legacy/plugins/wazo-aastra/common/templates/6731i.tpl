{% extends 'base.tpl' %}

{% block model_settings -%}
# 6731i: 8 programmable keys, monochrome
prgkey8 type: none
{% endblock %}
