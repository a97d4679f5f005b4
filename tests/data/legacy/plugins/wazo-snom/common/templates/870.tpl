{% extends 'base.tpl' %}

{% block model_settings -%}
    <!-- 870: colour screen -->
    <context_key idx="0" perm="R">keyevent F_ADR_BOOK</context_key>
    <context_key idx="1" perm="R">keyevent F_CALL_LIST</context_key>
{% endblock %}
