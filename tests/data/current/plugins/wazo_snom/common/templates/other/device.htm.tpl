<?xml version="1.0" encoding="UTF-8"?>
<setting-files>
  <file url="{{ XX_server_url|e }}/{{ XX_xml_filename|e }}"/>
</setting-files>
