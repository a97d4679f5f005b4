# pytest-provd sample plugin: Gigaset phones as emulators/ emulates them (test data).

shared = {}
execfile_("common.py", shared)

MODELS = {"C470 IP": "227"}


class LabPlugin(shared["LabPluginBase"]):
    IS_PLUGIN = True

    _MODELS = MODELS
    _WEB = True

    dhcp_dev_info_extractor = shared["LabExtractor"](
        "Gigaset",
        vci=r"^(?P<model>C470)_?IP$",
        models={"C470": "C470 IP"},
    )
    pg_associator = shared["LabAssociator"]("Gigaset", MODELS)
