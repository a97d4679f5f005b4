# pytest-provd sample plugin: Snom family, firmware 8.7.3.25.5, legacy layout (test data).

shared = {}
execfile_('common.py', shared)

MODELS = ['320', '370', '821', '870']
VERSION = '8.7.3.25.5'


class SnomPlugin(shared['SnomPluginBase']):
    IS_PLUGIN = True

    _MODELS = MODELS

    pg_associator = shared['SnomAssociator'](MODELS, VERSION)
