{% extends 'base.tpl' %}
{% block extra %}<model>F5</model>{% endblock %}
