# pytest-provd sample plugin: Zenitel phones as emulators/ emulates them (test data).

shared = {}
execfile_("common.py", shared)

MODELS = {"IP station": "01.11.3.2"}


class LabPlugin(shared["LabPluginBase"]):
    IS_PLUGIN = True

    _MODELS = MODELS
    _DEVICE_FILE = "ipst_config_{mac_}.cfg"
    _TFTP = True

    tftp_dev_info_extractor = shared["LabExtractor"](
        "Zenitel",
        tftp=r"^ipst_config(?:_(?P<mac>(?:[0-9a-f]{2}_){5}[0-9a-f]{2}))?\.cfg$",
        fixed={"model": "IP station"},
    )
    pg_associator = shared["LabAssociator"]("Zenitel", MODELS)
