<?xml version="1.0" encoding="UTF-8"?>
<settings>
  <setting id="DeviceFirmwareUpgradeUrl" value="{{ XX_server_url }}/firmware"/>
</settings>
