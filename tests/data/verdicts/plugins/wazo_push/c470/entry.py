# pytest-provd verdict sample plugin: a Gigaset C470-like base configured by push (test data).

shared = {}
execfile_('common.py', shared)

MODELS = ['C470 IP']
VERSION = '227'


class PushPlugin(shared['PushPluginBase']):
    IS_PLUGIN = True

    _MODELS = MODELS

    dhcp_dev_info_extractor = shared['PushDHCPExtractor'](MODELS)
    pg_associator = shared['PushAssociator'](MODELS)
