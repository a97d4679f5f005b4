# pytest-provd sample plugin: Panasonic phones as emulators/ emulates them (test data).

shared = {}
execfile_("common.py", shared)

MODELS = {"KX-UT133": "01.133"}


class LabPlugin(shared["LabPluginBase"]):
    IS_PLUGIN = True

    _MODELS = MODELS
    _DEVICE_FILE = "Panasonic/Config{MAC}.cfg"
    _COMMON = {"KX-UT133.cfg": "common/model.tpl"}

    http_dev_info_extractor = shared["LabExtractor"](
        "Panasonic",
        ua=r"^Panasonic_(?P<model>\S+)/(?P<version>\S+) \((?P<mac>[0-9a-f]{12})\)",
    )
    pg_associator = shared["LabAssociator"]("Panasonic", MODELS)
