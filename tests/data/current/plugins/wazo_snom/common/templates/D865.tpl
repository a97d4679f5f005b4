{% extends 'base.tpl' %}

{% block model_settings -%}
    <!-- D865: touch screen, Wi-Fi capable, .swu firmware images -->
    <context_key idx="0" perm="R">keyevent F_ADR_BOOK</context_key>
    <wifi_enabled perm="R">off</wifi_enabled>
{% endblock %}
