<?xml version="1.0" encoding="UTF-8"?>
<settings>
{%- for line_no, line in XX_lines %}
  <setting id="Account{{ line_no }}UserName" value="{{ line['username']|e }}"/>
  <setting id="Account{{ line_no }}Password" value="{{ line['password']|e }}"/>
  <setting id="Account{{ line_no }}DisplayName" value="{{ line['display_name']|e }}"/>
  <setting id="Account{{ line_no }}Server1Address" value="{{ line['proxy_ip'] }}"/>
{%- endfor %}
</settings>
