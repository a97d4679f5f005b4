{% extends 'base.tpl' %}

{% block model_settings -%}
# 6863i: 2 lines, no programmable keys
bl on time: 30
{% endblock %}
