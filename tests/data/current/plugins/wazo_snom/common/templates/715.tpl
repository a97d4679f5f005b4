{% extends 'base.tpl' %}

{% block model_settings -%}
    <!-- 715: monochrome screen, no expansion module -->
    <context_key idx="0" perm="R">keyevent F_CALL_LIST</context_key>
{% endblock %}
