<?xml version="1.0" encoding="UTF-8"?>
<device>
  <callManagerGroup>
    {% for priority, manager in sccp_call_managers.items() -%}
    <member priority="{{ priority }}"><callManager><processNodeName>{{ manager['ip'] }}</processNodeName></callManager></member>
    {% endfor -%}
  </callManagerGroup>
</device>
