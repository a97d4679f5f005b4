# Panasonic SIP Phone Standard Format File #
{%- for line_no, line in XX_lines %}
DISPLAY_NAME_{{ line_no }}="{{ line['display_name'] }}"
SIP_URI_{{ line_no }}="sip:{{ line['username'] }}@{{ line['proxy_ip'] }}"
SIP_PASS_{{ line_no }}="{{ line['password'] }}"
{%- endfor %}
