# pytest-provd verdict sample plugin: Acme F1-F6 in version 1.0 (test data).

shared = {}
execfile_('common.py', shared)

MODELS = ['F1', 'F2', 'F3', 'F4', 'F5', 'F6']
VERSION = '1.0'


class FallbackPlugin(shared['FallbackPluginBase']):
    IS_PLUGIN = True

    pg_associator = shared['FallbackAssociator'](MODELS)
