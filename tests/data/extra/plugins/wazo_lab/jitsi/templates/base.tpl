# pytest-provd sample Jitsi properties (test data)
{%- for line_no, line in XX_lines %}
net.java.sip.communicator.impl.protocol.sip.acc{{ line_no }}.USER_ID={{ line['username'] }}@{{ line['proxy_ip'] }}
net.java.sip.communicator.impl.protocol.sip.acc{{ line_no }}.DISPLAY_NAME={{ line['display_name'] }}
net.java.sip.communicator.impl.protocol.sip.acc{{ line_no }}.PASSWORD={{ line['password'] }}
net.java.sip.communicator.impl.protocol.sip.acc{{ line_no }}.SERVER_ADDRESS={{ line['proxy_ip'] }}
{%- endfor %}
