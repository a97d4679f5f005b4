{% extends 'base.tpl' %}
{% block keys %}{% endblock %}
