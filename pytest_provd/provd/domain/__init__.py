"""The provisioning application (:mod:`.app`): configs, devices, tenants, parameters, the
request pipeline and the faults of the server; nothing here knows how it is served."""
