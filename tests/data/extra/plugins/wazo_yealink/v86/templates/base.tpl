#!version:1.0.0.1
## pytest-provd sample Yealink configuration (test data)

static.auto_provision.server.url = {{ XX_server_url }}/
static.firmware.url = {{ XX_server_url }}/firmware/{{ XX_fw_filename }}
{% block model_specific_parameters %}{% endblock %}

{% for line_no, line in XX_lines -%}
account.{{ line_no }}.enable = 1
account.{{ line_no }}.label = {{ line['display_name'] }}
account.{{ line_no }}.display_name = {{ line['display_name'] }}
account.{{ line_no }}.auth_name = {{ line['auth_username'] }}
account.{{ line_no }}.user_name = {{ line['username'] }}
account.{{ line_no }}.password = {{ line['password'] }}
account.{{ line_no }}.sip_server.1.address = {{ line['proxy_ip'] }}
account.{{ line_no }}.sip_server.1.port = {{ line['proxy_port']|d(5060) }}
{% endfor %}
