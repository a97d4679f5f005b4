# Shared code of the pytest-provd config matrix sample "wazo_matrixlab" (test data, written
# for pytest-provd).  One XML file per device, rendered from base.tpl.

from __future__ import annotations

import os

from wazo_provd.devices.pgasso import BasePgAssociator, DeviceSupport
from wazo_provd.plugins import StandardPlugin, TemplatePluginHelper
from wazo_provd.servers.http import HTTPNoListingFileService
from wazo_provd.util import format_mac


class MatrixAssociator(BasePgAssociator):
    def __init__(self, models):
        super().__init__()
        self._models = models

    def _do_associate(self, vendor, model, version):
        if vendor == 'Acme' and model in self._models:
            return DeviceSupport.COMPLETE
        return DeviceSupport.IMPROBABLE


class MatrixPluginBase(StandardPlugin):
    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self._tpl_helper = TemplatePluginHelper(plugin_dir)
        self.http_service = HTTPNoListingFileService(self._tftpboot_dir)

    def _filename(self, device):
        return 'acme-' + format_mac(device['mac'], separator='') + '.xml'

    def configure(self, device, raw_config):
        raw_config['XX_keys'] = sorted(
            raw_config.get('funckeys', {}).items(), key=lambda item: int(item[0])
        )
        filename = self._filename(device)
        tpl = self._tpl_helper.get_dev_template(filename, device)
        path = os.path.join(self._tftpboot_dir, filename)
        self._tpl_helper.dump(tpl, raw_config, path, 'UTF-8')

    def deconfigure(self, device):
        try:
            os.remove(os.path.join(self._tftpboot_dir, self._filename(device)))
        except OSError:
            pass
