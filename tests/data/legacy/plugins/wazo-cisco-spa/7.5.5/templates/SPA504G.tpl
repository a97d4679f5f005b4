{% extends 'base.tpl' %}

{% block upgrade %}
<Upgrade_Rule>{{ XX_server_url|e }}/firmware/spa50x-30x-7-5-5.bin</Upgrade_Rule>
{%- endblock %}

{% block model_settings %}
<!-- SPA504G: 4 line keys -->
{%- endblock %}
