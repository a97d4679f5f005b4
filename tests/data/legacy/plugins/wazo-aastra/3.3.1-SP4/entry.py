# pytest-provd sample plugin: Aastra family, firmware 3.3.1 SP4, legacy layout (test data).

shared = {}
execfile_('common.py', shared)

MODEL_VERSIONS = {
    '6731i': '3.3.1.4400',
    '6737i': '3.3.1.4400',
    '6757i': '3.3.1.4400',
}


class AastraPlugin(shared['AastraPluginBase']):
    IS_PLUGIN = True

    # 3.x firmwares resolve the language file path from the /Aastra/ directory
    _LANGUAGE_PATH = 'i18n/'

    pg_associator = shared['AastraAssociator'](MODEL_VERSIONS)
