{% extends 'base.tpl' %}
{% block extra %}<model>F6</model>{% endblock %}
