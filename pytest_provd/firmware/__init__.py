"""Firmware: packages of a plugin's pkgs.db (store), the loopback proxy, synthetic images."""

FIRMWARE_DIR_CFG = "pytest_provd_firmware_dir"
"""The ``gen_cfg`` key (provd's general configuration handed to plugins) naming the cache of
real firmware files a plugin manager's plugins install from; absent: synthetic firmware."""
