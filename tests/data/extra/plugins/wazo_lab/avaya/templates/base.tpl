## pytest-provd sample J100 settings (test data)
{%- set line = XX_lines[0][1] %}
SET SIPPROXYSRVR {{ line['proxy_ip'] }}
SET DISPLAY_NAME "{{ line['display_name'] }}"
SET SIP_USER_ACCOUNT {{ line['username'] }}@{{ line['proxy_ip'] }}
SET FORCE_SIP_PASSWORD "{{ line['password'] }}"
