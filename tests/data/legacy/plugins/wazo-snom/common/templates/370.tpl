{% extends 'base.tpl' %}

{% block model_settings -%}
    <!-- 370: monochrome screen -->
    <context_key idx="0" perm="R">keyevent F_CALL_LIST</context_key>
{% endblock %}
