<?xml version="1.0" encoding="UTF-8"?>
<acme>
  <lines>
    {% for number, line in sip_lines.items() -%}
    <line n="{{ number }}" user="{{ line['username']|e }}" name="{{ line['display_name']|e }}">
      {% if line['backup_proxy_ip'] -%}
      <backup ip="{{ line['backup_proxy_ip'] }}">
      {% endif -%}
    </line>
    {% endfor -%}
  </lines>
  <keys>
    {% for number, key in XX_keys -%}
    {% if key['type'] == 'park' and not key['label'] -%}
    <park n="{{ number }}" slot="{{ key['value'] }}">
    {% elif key['type'] == 'park' -%}
    <park n="{{ number }}" slot="{{ key['value'] }}" label="{{ key['label']|e }}"/>
    {% else -%}
    <key n="{{ number }}" type="{{ key['type'] }}" value="{{ key['value']|e }}"/>
    {% endif -%}
    {% endfor -%}
  </keys>
  {% if sip_transport == 'sctp' -%}
  <transport>sctp</transport>
  {% endif -%}
</acme>
