{% extends 'base.tpl' %}

{% block upgrade %}
<Upgrade_Rule>{{ XX_server_url|e }}/firmware/spa50x-30x-7-5-4.bin</Upgrade_Rule>
{%- endblock %}

{% block model_settings %}
<!-- SPA303: 3 line keys -->
{%- endblock %}
