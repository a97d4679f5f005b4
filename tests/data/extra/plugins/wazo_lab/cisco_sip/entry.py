# pytest-provd sample plugin: Cisco phones as emulators/ emulates them (test data).

shared = {}
execfile_("common.py", shared)

MODELS = {"8941": "9.3.1"}


class LabPlugin(shared["LabPluginBase"]):
    IS_PLUGIN = True

    _MODELS = MODELS
    _DEVICE_FILE = "SEP{MAC}.cnf.xml"
    _TFTP = True

    dhcp_dev_info_extractor = shared["LabExtractor"](
        "Cisco",
        vci=r"\bPhone CP-(?P<model>\d{4})$",
    )
    tftp_dev_info_extractor = shared["LabExtractor"](
        "Cisco",
        tftp=r"^SEP(?P<mac>[0-9A-F]{12})\.cnf\.xml$",
    )
    pg_associator = shared["LabAssociator"]("Cisco", MODELS)
