# pytest-provd verdict sample plugin: Acme S10G and S20 SCCP phones in version 1.0 (test data).

shared = {}
execfile_('common.py', shared)

MODELS = ['S10G', 'S20']
VERSION = '1.0'


class SccpPlugin(shared['SccpPluginBase']):
    IS_PLUGIN = True

    pg_associator = shared['SccpAssociator'](MODELS)
