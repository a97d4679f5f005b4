# pytest-provd config matrix sample plugin: Acme M2 and M6 in version 1.0 (test data).

shared = {}
execfile_('common.py', shared)

MODELS = ['M2', 'M6']
VERSION = '1.0'


class MatrixPlugin(shared['MatrixPluginBase']):
    IS_PLUGIN = True

    pg_associator = shared['MatrixAssociator'](MODELS)
