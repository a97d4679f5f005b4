<?xml version="1.0" encoding="UTF-8"?>
<flat-profile>
<Profile_Rule_B>{{ XX_server_url|e }}/spa-phone.xml</Profile_Rule_B>
<Profile_Rule_C>{{ XX_server_url|e }}/$MA.xml</Profile_Rule_C>
</flat-profile>
