[general]
pin: {{ XX_pin|d('0000') }}
