{% extends 'base.tpl' %}

{% block model_settings -%}
# 6737i: 6 top softkeys
topsoftkey1 type: none
{% endblock %}
