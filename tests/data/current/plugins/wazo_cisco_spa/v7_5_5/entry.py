# pytest-provd sample plugin: Cisco SPA family, firmware 7.5.5 (test data).

shared = {}
execfile_('common.py', shared)

PSNS = ['303', '504G', '508G']
MODELS = ['SPA' + psn for psn in PSNS]
VERSION = '7.5.5'
MODEL_VERSION = {model: VERSION for model in MODELS}


class CiscoSpaPlugin(shared['SpaPluginBase']):
    IS_PLUGIN = True

    # the phone asks for spa$PSN.cfg, e.g. spa504G.cfg (the G keeps its case)
    _PSNS = PSNS

    pg_associator = shared['SpaAssociator'](MODEL_VERSION)
