# pytest-provd sample plugin: Jitsi phones as emulators/ emulates them (test data).

shared = {}
execfile_("common.py", shared)

MODELS = {"Jitsi": "1.0"}


class LabPlugin(shared["LabPluginBase"]):
    IS_PLUGIN = True

    _MODELS = MODELS
    _JITSI = True

    http_dev_info_extractor = shared["LabExtractor"](
        "Jitsi",
        ua=r"^Jitsi/(?P<version>\S+)$",
        fixed={"model": "Jitsi"},
    )
    pg_associator = shared["LabAssociator"]("Jitsi", MODELS)
