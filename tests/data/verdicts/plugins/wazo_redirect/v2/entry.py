# pytest-provd verdict sample plugin: Digium-like D40, D45 and D60 in version 2.0 (test data).

shared = {}
execfile_('common.py', shared)

MODELS = ['D40', 'D45', 'D60']
VERSION = '2.0'


class RedirectPlugin(shared['RedirectPluginBase']):
    IS_PLUGIN = True

    pg_associator = shared['RedirectAssociator'](MODELS)
