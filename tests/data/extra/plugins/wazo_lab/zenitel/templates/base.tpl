# pytest-provd sample IP station configuration (test data)
{%- set line = XX_lines[0][1] %}
[sip]
 nick_name={{ line['display_name'] }}
 sip_id={{ line['username'] }}
 sip_domain={{ line['proxy_ip'] }}
 auth_pwd={{ line['password'] }}
