{% extends 'base.tpl' -%}

{% block model_specific_parameters -%}
gui_lang.url = {{ XX_server_url }}/lang/T46S/000.GUI.English.lang
{% endblock %}
