{% extends 'base.tpl' %}
{% block keys %}<key n="1" action="directory"/>{% endblock %}
