{% extends 'base.tpl' %}

{% block model_settings -%}
    <!-- D735: colour screen, expansion module port -->
    <context_key idx="0" perm="R">keyevent F_ADR_BOOK</context_key>
    <context_key idx="1" perm="R">keyevent F_CALL_LIST</context_key>
    <expansion_module_type perm="R">auto</expansion_module_type>
{% endblock %}
