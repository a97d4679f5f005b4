# Panasonic SIP Phone Standard Format File #
## pytest-provd sample common file (test data)
CFG_STANDARD_FILE_PATH="{{ XX_server_url }}/Panasonic/Config{MAC}.cfg"
FIRM_UPGRADE_ENABLE="Y"
FIRM_VERSION="01.133"
FIRM_FILE_PATH="{{ XX_server_url }}/firmware/lab-01.133.fw"
