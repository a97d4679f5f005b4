<?xml version="1.0" encoding="UTF-8"?>
<device>
  <devicePool>
    <callManagerGroup>
      <members>
        <member priority="0">
          <callManager><processNodeName>{{ XX_lines[0][1]['proxy_ip'] }}</processNodeName></callManager>
        </member>
      </members>
    </callManagerGroup>
  </devicePool>
  <sipLines>
  {%- for line_no, line in XX_lines %}
    <line button="{{ line_no }}" lineIndex="{{ line_no }}">
      <proxy>USECALLMANAGER</proxy>
      <name>{{ line['username']|e }}</name>
      <displayName>{{ line['display_name']|e }}</displayName>
      <authPassword>{{ line['password']|e }}</authPassword>
    </line>
  {%- endfor %}
  </sipLines>
  <loadInformation>SIP8941_8945.9-3-1-18</loadInformation>
</device>
