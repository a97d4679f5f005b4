{% extends 'base.tpl' %}

{% block model_settings -%}
# 6757i: announces itself as 57i
softkey1 type: none
{% endblock %}
