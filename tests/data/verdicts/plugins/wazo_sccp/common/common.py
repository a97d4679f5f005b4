# Shared code of the pytest-provd verdict sample "wazo_sccp" (test data, written for
# pytest-provd).  SCCP phones take their lines from the call manager: the device file only
# lists the call managers, served over TFTP.

from __future__ import annotations

import os

from wazo_provd.devices.pgasso import BasePgAssociator, DeviceSupport
from wazo_provd.plugins import StandardPlugin, TemplatePluginHelper
from wazo_provd.servers.tftp.service import TFTPFileService
from wazo_provd.util import format_mac


class SccpAssociator(BasePgAssociator):
    def __init__(self, models):
        super().__init__()
        self._models = models

    def _do_associate(self, vendor, model, version):
        if vendor == 'Acme' and model in self._models:
            return DeviceSupport.COMPLETE
        return DeviceSupport.IMPROBABLE


class SccpPluginBase(StandardPlugin):
    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self._tpl_helper = TemplatePluginHelper(plugin_dir)
        self.tftp_service = TFTPFileService(self._tftpboot_dir)

    def _filename(self, device):
        return 'SEP' + format_mac(device['mac'], separator='', uppercase=True) + '.cnf.xml'

    def configure(self, device, raw_config):
        filename = self._filename(device)
        tpl = self._tpl_helper.get_dev_template(filename, device)
        path = os.path.join(self._tftpboot_dir, filename)
        self._tpl_helper.dump(tpl, raw_config, path, 'UTF-8')

    def deconfigure(self, device):
        try:
            os.remove(os.path.join(self._tftpboot_dir, self._filename(device)))
        except OSError:
            pass
