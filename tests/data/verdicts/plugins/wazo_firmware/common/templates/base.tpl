firmware = firmware/acme-w1-1.0.bin
{% for number, line in sip_lines.items() -%}
line{{ number }}.user = {{ line['username'] }}
line{{ number }}.name = {{ line['display_name'] }}
{% endfor -%}
