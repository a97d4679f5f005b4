<?xml version="1.0" encoding="UTF-8"?>
<provisioning version="1.1">
  <firmware>
    <file version="2.65.0" url="{{ XX_server_url }}/gigaset-lab.bin"/>
  </firmware>
  <nvm>
  {%- for line_no, line in XX_lines %}
    {%- set handset = '%05d' % line_no %}
    <param name="SipAccount.{{ handset }}.UserName" value="{{ line['username']|e }}"/>
    <param name="SipAccount.{{ handset }}.AuthPassword" value="{{ line['password']|e }}"/>
    <param name="SipAccount.{{ handset }}.DisplayName" value="{{ line['number'] }} {{ line['display_name']|e }}"/>
  {%- endfor %}
  </nvm>
</provisioning>
