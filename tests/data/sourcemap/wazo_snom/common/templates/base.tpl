<?xml version="1.0" encoding="UTF-8"?>
{% from 'common/macros.tpl' import setting -%}
<settings>
  <phone-settings>
    {{ setting('setting_server', XX_server_url ~ '/') }}
    {% if admin_password -%}
    {{ setting('http_user', admin_username|d('admin', true)) }}
    {{ setting('http_pass', admin_password) }}
    {% endif -%}
    {% if ntp_enabled and ntp_ip -%}
    {{ setting('ntp_server', ntp_ip) }}
    {% endif -%}
    {% if XX_lang -%}
    {{ setting('language', XX_lang[0]) }}
    {{ setting('web_language', XX_lang[0]) }}
    {{ setting('tone_scheme', XX_lang[1]) }}
    {% endif -%}
    {% if XX_timezone -%}
    {{ setting('timezone', XX_timezone) }}
    {% endif -%}
    {% for line_no, line in XX_lines -%}
    {% include 'common/lines.tpl' %}
    {% endfor -%}
    {% block model_settings %}{% endblock %}
  </phone-settings>
  <functionKeys>
    {% block fkeys %}{{ XX_fkeys }}{% endblock %}
  </functionKeys>
</settings>
