{% extends 'base.tpl' %}

{% block model_settings -%}
# 6867i: color screen, top softkeys
topsoftkey1 type: none
{% endblock %}
