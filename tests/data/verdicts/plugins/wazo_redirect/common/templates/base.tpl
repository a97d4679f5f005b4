<?xml version="1.0" encoding="UTF-8"?>
<config>
  <accounts>
    {% for number, line in sip_lines.items() -%}
    <account index="{{ number|int - 1 }}" username="{{ line['username']|e }}" password="{{ line['password']|e }}" line_label="{{ line['display_name']|e }}"/>
    {% endfor -%}
  </accounts>
</config>
