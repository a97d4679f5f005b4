<?xml version="1.0" encoding="UTF-8"?>
<settings>
  <phone-settings>
    <setting_server perm="RW">{{ XX_server_url|e }}/</setting_server>
    {% if admin_password -%}
    <http_user perm="R">{{ admin_username|d('admin', true)|e }}</http_user>
    <http_pass perm="R">{{ admin_password|e }}</http_pass>
    {% endif -%}
    {% if ntp_enabled and ntp_ip -%}
    <ntp_server perm="R">{{ ntp_ip|e }}</ntp_server>
    {% endif -%}
    {% if XX_lang -%}
    <language perm="R">{{ XX_lang[0]|e }}</language>
    <web_language perm="R">{{ XX_lang[0]|e }}</web_language>
    <tone_scheme perm="R">{{ XX_lang[1]|e }}</tone_scheme>
    {% endif -%}
    {% if XX_timezone -%}
    <timezone perm="R">{{ XX_timezone|e }}</timezone>
    {% endif -%}
    {% for line_no, line in XX_lines -%}
    <user_active idx="{{ line_no }}" perm="R">on</user_active>
    <user_realname idx="{{ line_no }}" perm="R">{{ line.display_name|e }}</user_realname>
    <user_idle_text idx="{{ line_no }}" perm="R">{{ line.display_name|e }}</user_idle_text>
    <user_name idx="{{ line_no }}" perm="R">{{ line.username|e }}</user_name>
    <user_pname idx="{{ line_no }}" perm="R">{{ line.XX_auth_name|e }}</user_pname>
    <user_pass idx="{{ line_no }}" perm="R">{{ line.password|e }}</user_pass>
    <user_host idx="{{ line_no }}" perm="R">{{ line.XX_registrar|e }}</user_host>
    <user_outbound idx="{{ line_no }}" perm="R">{{ line.XX_outbound|e }};transport={{ XX_sip_transport }}</user_outbound>
    <user_mailbox idx="{{ line_no }}" perm="R">{{ line.voicemail|e }}</user_mailbox>
    <user_dtmf_info idx="{{ line_no }}" perm="R">{{ line.XX_dtmf }}</user_dtmf_info>
    {% endfor -%}
    {% block model_settings %}{% endblock %}
  </phone-settings>
  <functionKeys>
    {% block fkeys %}{{ XX_fkeys }}{% endblock %}
  </functionKeys>
</settings>
