{% extends 'base.tpl' %}

{% block model_settings -%}
# 6869i: color screen, 3 pages of top softkeys
topsoftkey1 type: none
{% endblock %}
