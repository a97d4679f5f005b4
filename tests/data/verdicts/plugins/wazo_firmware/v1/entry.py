# pytest-provd verdict sample plugin: the Acme W1 in version 1.0, with firmware (test data).

shared = {}
execfile_('common.py', shared)

MODELS = ['W1']
VERSION = '1.0'


class FirmwarePlugin(shared['FirmwarePluginBase']):
    IS_PLUGIN = True

    pg_associator = shared['FirmwareAssociator'](MODELS)
