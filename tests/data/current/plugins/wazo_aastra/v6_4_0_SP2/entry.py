# pytest-provd sample plugin: Aastra family, firmware 6.4.0 SP2 (test data).

shared = {}
execfile_('common.py', shared)

MODEL_VERSIONS = {
    '6865i': '6.4.0.2550',
    '6867i': '6.4.0.2550',
    '6869i': '6.4.0.2550',
}


class AastraPlugin(shared['AastraPluginBase']):
    IS_PLUGIN = True

    pg_associator = shared['AastraAssociator'](MODEL_VERSIONS)
