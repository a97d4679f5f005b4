# pytest-provd sample IP Touch SIP configuration (test data)
{%- set line = XX_lines[0][1] %}

[sip]
user_name={{ line['username'] }}
display_name={{ line['display_name'] }}
authentication_password={{ line['password'] }}
registrar_addr={{ line['proxy_ip'] }}
