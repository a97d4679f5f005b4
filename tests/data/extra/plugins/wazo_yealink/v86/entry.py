# pytest-provd sample plugin: Yealink family, firmware v86 (test data).

shared = {}
execfile_('common.py', shared)

MODEL_INFO = {
    'T46S': {'version': '66.86.0.15', 'firmware': 'T46S(T48S,T42S,T41S)-66.86.0.15.rom'},
    'T54W': {'version': '96.86.0.15', 'firmware': 'T54W(T57W,T53W)-96.86.0.15.rom'},
}


class YealinkPlugin(shared['YealinkPluginBase']):
    IS_PLUGIN = True

    _MODEL_INFO = MODEL_INFO

    pg_associator = shared['YealinkAssociator'](MODEL_INFO)
