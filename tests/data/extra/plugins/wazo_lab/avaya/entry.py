# pytest-provd sample plugin: Avaya phones as emulators/ emulates them (test data).

shared = {}
execfile_("common.py", shared)

MODELS = {"J179": "4.1.3.0.6"}


class LabPlugin(shared["LabPluginBase"]):
    IS_PLUGIN = True

    _MODELS = MODELS
    _DEVICE_FILE = "{mac}.cfg"

    http_dev_info_extractor = shared["LabExtractor"](
        "Avaya",
        ua=r"AVAYA/(?P<model>J\d+)-(?P<version>[\d.]+) \(MAC:(?P<mac>[0-9a-f]{12})\)$",
    )
    pg_associator = shared["LabAssociator"]("Avaya", MODELS)
