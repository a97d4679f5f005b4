; pytest-provd sample ST2022 configuration (test data)
[sip]
{%- for line_no, line in XX_lines %}
TEL{{ line_no }}Number={{ line['username'] }}
DisplayName{{ line_no }}={{ line['display_name'] }}
regpwd{{ line_no }}={{ line['password'] }}
RegisterServerMP{{ line_no }}={{ line['proxy_ip'] }}
{%- endfor %}
