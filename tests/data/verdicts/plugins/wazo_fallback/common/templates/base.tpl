<?xml version="1.0" encoding="UTF-8"?>
<acme>
  <lines>
    {% for number, line in sip_lines.items() -%}
    <line n="{{ number }}" user="{{ line['username']|e }}" name="{{ line['display_name']|e }}"/>
    {% endfor -%}
  </lines>
  {% block keys %}{% endblock %}
  {% block extra %}{% endblock %}
</acme>
