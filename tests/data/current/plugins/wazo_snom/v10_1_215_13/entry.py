# pytest-provd sample plugin: Snom family, firmware 10.1.215.13 (test data).

shared = {}
execfile_('common.py', shared)

MODELS = ['D735', 'D785', 'D865']
VERSION = '10.1.215.13'


class SnomPlugin(shared['SnomPluginBase']):
    IS_PLUGIN = True

    _MODELS = MODELS

    pg_associator = shared['SnomAssociator'](MODELS, VERSION)
