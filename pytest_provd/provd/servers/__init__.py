"""The servers of the embedded provd, over the application: REST (:mod:`.rest`), provisioning
HTTP (:mod:`.http`) and TFTP (:mod:`.tftp`)."""
