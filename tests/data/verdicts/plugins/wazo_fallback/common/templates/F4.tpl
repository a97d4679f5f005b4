{% extends 'base.tpl' %}
{% block extra %}<model>F4</model>{% endblock %}
