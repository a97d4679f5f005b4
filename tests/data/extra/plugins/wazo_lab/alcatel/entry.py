# pytest-provd sample plugin: Alcatel-Lucent phones as emulators/ emulates them (test data).

shared = {}
execfile_("common.py", shared)

MODELS = {"M3": "2.13.02", "4028": "2.01.20"}


class LabPlugin(shared["LabPluginBase"]):
    IS_PLUGIN = True

    _MODELS = MODELS
    _DEVICE_FILES = {"M3": "config.{mac}.xml", "4028": "sipconfig-{mac}.txt"}
    _COMMON = {"config.M3.xml": "common/model.tpl"}

    http_dev_info_extractor = shared["LabExtractor"](
        "Alcatel-Lucent",
        ua=[
            r"^ALE (?P<model>M\d) (?P<version>[\d.]+) (?P<mac>[0-9a-f]{12})$",
            r"^Alcatel IP Touch (?P<model>\d{4})/(?P<version>[\w.]+)$",
        ],
        path=r"sipconfig-(?P<mac>[0-9a-f]{12})\.txt$",
    )
    pg_associator = shared["LabAssociator"]("Alcatel-Lucent", MODELS)
