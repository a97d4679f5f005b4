# softphone configuration (Java properties)
{% for number, line in sip_lines.items() -%}
net.java.sip.communicator.impl.protocol.sip.acc{{ number }}.USER_ID={{ line['username'] }}@{{ line['proxy_ip'] or sip_proxy_ip }}
net.java.sip.communicator.impl.protocol.sip.acc{{ number }}.DISPLAY_NAME={{ line['display_name'] }}
net.java.sip.communicator.impl.protocol.sip.acc{{ number }}.PASSWORD={{ line['password'] }}
{% endfor -%}
