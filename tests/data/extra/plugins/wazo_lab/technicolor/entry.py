# pytest-provd sample plugin: Technicolor phones as emulators/ emulates them (test data).

shared = {}
execfile_("common.py", shared)

MODELS = {"ST2022": "4.78.1"}


class LabPlugin(shared["LabPluginBase"]):
    IS_PLUGIN = True

    _MODELS = MODELS
    _DEVICE_FILE = "ST2022S_{MAC}.txt"
    _ENCODING = "ISO-8859-1"
    _COMMON = {"ST2022S.inf": "common/inf.tpl"}

    http_dev_info_extractor = shared["LabExtractor"](
        "Technicolor",
        ua=r"^(?:THOMSON|Thomson) (?P<model>\w+) hw\S+ fw(?P<version>\S+) (?P<mac>[0-9A-F-]{17})$",
    )
    pg_associator = shared["LabAssociator"]("Technicolor", MODELS)
