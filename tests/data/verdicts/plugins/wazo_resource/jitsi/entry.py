# pytest-provd verdict sample plugin: the Jitsi softphone, served through the plugin's own
# resource b'jitsi' (test data).

shared = {}
execfile_('common.py', shared)

MODELS = ['Jitsi']
VERSION = '1.0'


class SoftphonePlugin(shared['SoftphonePluginBase']):
    IS_PLUGIN = True

    _RESOURCE = b'jitsi'

    http_dev_info_extractor = shared['SoftphoneExtractor']('Jitsi', 'Jitsi')
    pg_associator = shared['SoftphoneAssociator']('Jitsi', 'Jitsi')
