# pytest-provd sample plugin: Aastra family, firmware 4.3.0 (test data).

shared = {}
execfile_('common.py', shared)

MODEL_VERSIONS = {
    '6863i': '4.3.0.1550',
    '6865i': '4.3.0.1550',
    '6867i': '4.3.0.1550',
}


class AastraPlugin(shared['AastraPluginBase']):
    IS_PLUGIN = True

    pg_associator = shared['AastraAssociator'](MODEL_VERSIONS)
