# pytest-provd sample plugin: Snom family, firmware 10.1.200.1 (test data).

shared = {}
execfile_('common.py', shared)

MODELS = ['715', 'D735', 'D785']
VERSION = '10.1.200.1'


class SnomPlugin(shared['SnomPluginBase']):
    IS_PLUGIN = True

    _MODELS = MODELS

    pg_associator = shared['SnomAssociator'](MODELS, VERSION)
