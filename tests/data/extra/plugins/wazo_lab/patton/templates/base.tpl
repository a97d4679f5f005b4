# pytest-provd sample SmartNode configuration (test data)
context cs switch
{%- for line_no, line in XX_lines %}
  interface fxs IF_FXS{{ line_no - 1 }}
    subscriber-number {{ line['username'] }}
{%- endfor %}

authentication-service AUTH
{%- for line_no, line in XX_lines %}
  username {{ line['username'] }} password {{ line['password'] }}
{%- endfor %}

location-service LOC_SERVER1
{%- for line_no, line in XX_lines %}
  identity {{ line['username'] }}
    registration outbound
      registrar {{ line['proxy_ip'] }} 5060
{%- endfor %}
