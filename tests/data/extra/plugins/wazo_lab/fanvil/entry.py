# pytest-provd sample plugin: Fanvil phones as emulators/ emulates them (test data).

shared = {}
execfile_("common.py", shared)

MODELS = {"X4U": "2.12.16.17", "X210-Pro": "2.12.20"}


class LabPlugin(shared["LabPluginBase"]):
    IS_PLUGIN = True

    _MODELS = MODELS
    _DEVICE_FILE = "Fanvil/{mac}.cfg"

    http_dev_info_extractor = shared["LabExtractor"](
        "Fanvil",
        ua=r"^Fanvil (?P<model>\w+(?: Pro)?) (?P<version>[\d.]+) (?P<mac>[0-9a-f]{12})$",
    )
    pg_associator = shared["LabAssociator"]("Fanvil", MODELS)
