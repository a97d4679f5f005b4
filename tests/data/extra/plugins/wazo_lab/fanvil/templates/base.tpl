<?xml version="1.0" encoding="UTF-8"?>
<sysConf>
  <AUTOUPDATE_CONFIG_MODULE>
    <Auto_Image_URL>{{ XX_server_url }}/Fanvil/firmware/fanvil-lab.z</Auto_Image_URL>
  </AUTOUPDATE_CONFIG_MODULE>
  <sip>
  {%- for line_no, line in XX_lines %}
    <line index="{{ line_no }}">
      <PhoneNumber>{{ line['username']|e }}</PhoneNumber>
      <DisplayName>{{ line['number'] }} {{ line['display_name']|e }}</DisplayName>
      <RegisterAddr>{{ line['registrar_ip']|d(line['proxy_ip']) }}</RegisterAddr>
      <RegisterUser>{{ line['username']|e }}</RegisterUser>
      <RegisterPswd>{{ line['password']|e }}</RegisterPswd>
    </line>
  {%- endfor %}
  </sip>
</sysConf>
<<END OF FILE>>
