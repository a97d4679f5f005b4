# pytest-provd sample plugin: Patton phones as emulators/ emulates them (test data).

shared = {}
execfile_("common.py", shared)

MODELS = {"SN4112": "6.11"}


class LabPlugin(shared["LabPluginBase"]):
    IS_PLUGIN = True

    _MODELS = MODELS
    _DEVICE_FILE = "{mac}.cfg"
    _ENCODING = "ascii"

    http_dev_info_extractor = shared["LabExtractor"](
        "Patton",
        ua=r"^SmartNode \(Model:(?P<model>SN\d+)/[^;]+; Serial:(?P<mac>\w+); Software Version:R(?P<version>\S+)",
    )
    pg_associator = shared["LabAssociator"]("Patton", MODELS)
