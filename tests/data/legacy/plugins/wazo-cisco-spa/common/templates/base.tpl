<?xml version="1.0" encoding="UTF-8"?>
<flat-profile>
<Station_Name>{{ XX_station_name|e }}</Station_Name>
{%- if admin_password %}
<Admin_Passwd>{{ admin_password|e }}</Admin_Passwd>
{%- endif %}
{%- if ntp_enabled and ntp_ip %}
<Primary_NTP_Server>{{ ntp_ip|e }}</Primary_NTP_Server>
{%- endif %}
{%- if XX_timezone %}
<Time_Zone>{{ XX_timezone }}</Time_Zone>
<Daylight_Saving_Time_Enable>{{ XX_dst }}</Daylight_Saving_Time_Enable>
{%- endif %}
{%- if XX_language %}
<Language_Selection>{{ XX_language }}</Language_Selection>
<Locale>{{ XX_locale }}</Locale>
{%- endif %}
{%- for line_no, line in XX_lines %}
<Line_Enable_{{ line_no }}_>Yes</Line_Enable_{{ line_no }}_>
<Proxy_{{ line_no }}_>{{ line.XX_proxy|e }}</Proxy_{{ line_no }}_>
<Display_Name_{{ line_no }}_>{{ line.display_name|e }}</Display_Name_{{ line_no }}_>
<User_ID_{{ line_no }}_>{{ line.username|e }}</User_ID_{{ line_no }}_>
<Auth_ID_{{ line_no }}_>{{ line.XX_auth_id|e }}</Auth_ID_{{ line_no }}_>
<Password_{{ line_no }}_>{{ line.password|e }}</Password_{{ line_no }}_>
<DTMF_Tx_Method_{{ line_no }}_>{{ line.XX_dtmf }}</DTMF_Tx_Method_{{ line_no }}_>
<Extension_{{ line_no }}_>{{ line_no }}</Extension_{{ line_no }}_>
<Short_Name_{{ line_no }}_>{{ line.number|d(line.username, true)|e }}</Short_Name_{{ line_no }}_>
{%- endfor %}
{%- block upgrade %}{% endblock %}
{%- block model_settings %}{% endblock %}
</flat-profile>
