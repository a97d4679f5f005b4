# pytest-provd sample plugin: Gigaset phones as emulators/ emulates them (test data).

shared = {}
execfile_("common.py", shared)

MODELS = {"N870 IP PRO": "83.V2.65.0"}


class LabPlugin(shared["LabPluginBase"]):
    IS_PLUGIN = True

    _MODELS = MODELS
    _DEVICE_FILE = "{mac}.xml"

    http_dev_info_extractor = shared["LabExtractor"](
        "Gigaset",
        ua=r"^Gigaset (?P<model>N\d{3}E? IP PRO)/(?P<version>\w+\.\w+\.\d+\.\d+)[^;]*;(?P<mac>[0-9A-F]{12})$",
    )
    pg_associator = shared["LabAssociator"]("Gigaset", MODELS)
