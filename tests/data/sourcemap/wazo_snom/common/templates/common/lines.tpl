{% from 'common/macros.tpl' import setting -%}
<user_active idx="{{ line_no }}" perm="R">on</user_active>
    {{ setting('user_realname', line.display_name, line_no) }}
    {{ setting('user_idle_text', line.display_name, line_no) }}
    {{ setting('user_name', line.username, line_no) }}
    {{ setting('user_pname', line.XX_auth_name, line_no) }}
    {{ setting('user_pass', line.password, line_no) }}
    {{ setting('user_host', line.XX_registrar, line_no) }}
    <user_outbound idx="{{ line_no }}" perm="R">{{ line.XX_outbound|e }};transport={{ XX_sip_transport }}</user_outbound>
    {{ setting('user_mailbox', line.voicemail, line_no) }}
    <user_dtmf_info idx="{{ line_no }}" perm="R">{{ line.XX_dtmf }}</user_dtmf>
