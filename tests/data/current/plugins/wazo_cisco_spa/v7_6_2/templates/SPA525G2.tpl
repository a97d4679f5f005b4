{% extends 'base.tpl' %}

{% block upgrade %}
<Upgrade_Rule>{{ XX_server_url|e }}/firmware/spa525g-7-6-2.bin</Upgrade_Rule>
{%- endblock %}

{% block model_settings %}
<!-- SPA525G2: 5 line keys -->
{%- endblock %}
