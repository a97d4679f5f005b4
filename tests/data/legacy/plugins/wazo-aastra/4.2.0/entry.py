# pytest-provd sample plugin: Aastra family, firmware 4.2.0, legacy layout (test data).

shared = {}
execfile_('common.py', shared)

MODEL_VERSIONS = {
    '6863i': '4.2.0.1500',
    '6865i': '4.2.0.1500',
}


class AastraPlugin(shared['AastraPluginBase']):
    IS_PLUGIN = True

    pg_associator = shared['AastraAssociator'](MODEL_VERSIONS)
