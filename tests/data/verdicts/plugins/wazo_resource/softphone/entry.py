# pytest-provd verdict sample plugin: the Soft1 softphone, served through the plugin's own
# resource b'provisioning' (test data).

shared = {}
execfile_('common.py', shared)

MODELS = ['Soft1']
VERSION = '2.0'


class SoftphonePlugin(shared['SoftphonePluginBase']):
    IS_PLUGIN = True

    _RESOURCE = b'provisioning'

    http_dev_info_extractor = shared['SoftphoneExtractor']('Acme', 'Soft1')
    pg_associator = shared['SoftphoneAssociator']('Acme', 'Soft1')
