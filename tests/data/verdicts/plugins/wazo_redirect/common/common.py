# Shared code of the pytest-provd verdict sample "wazo_redirect" (test data, written for
# pytest-provd).  Device files are var/tftpboot/Digium/<mac>.cfg, served over HTTP from
# var/tftpboot (so at /Digium/<mac>.cfg).

from __future__ import annotations

import os
import re

from twisted.internet import defer
from wazo_provd.devices.pgasso import BasePgAssociator, DeviceSupport
from wazo_provd.plugins import StandardPlugin, TemplatePluginHelper
from wazo_provd.servers.http import HTTPNoListingFileService
from wazo_provd.util import format_mac, norm_mac

VENDOR = 'Digium'
# DHCP option 60: digium_D40_2_0
VCI_RE = re.compile(r'^digium_(?P<model>D\d+)_(?P<version>[\d_]+)$')
# User-Agent: Digium D40 2.0
UA_RE = re.compile(r'^Digium (?P<model>D\d+) (?P<version>\S+)$')
PATH_RE = re.compile(r'/(?P<mac>[0-9a-f]{12})\.cfg$')


def _text(value):
    return value.decode('latin-1') if isinstance(value, bytes) else value


class RedirectDHCPExtractor:
    def extract(self, request, request_type):
        found = VCI_RE.match(_text(request['options'].get(60)) or '')
        if not found:
            return defer.succeed(None)
        version = found.group('version').replace('_', '.')
        return defer.succeed({'vendor': VENDOR, 'model': found.group('model'), 'version': version})


class RedirectHTTPExtractor:
    def extract(self, request, request_type):
        info = {}
        ua = UA_RE.match(_text(request.getHeader(b'User-Agent')) or '')
        if ua:
            info.update(vendor=VENDOR, model=ua.group('model'), version=ua.group('version'))
        path = PATH_RE.search(_text(request.path))
        if path:
            info['mac'] = norm_mac(path.group('mac'))
        return defer.succeed(info or None)


class RedirectAssociator(BasePgAssociator):
    def __init__(self, models):
        super().__init__()
        self._models = models

    def _do_associate(self, vendor, model, version):
        if vendor != VENDOR:
            return DeviceSupport.IMPROBABLE
        return DeviceSupport.COMPLETE if model in self._models else DeviceSupport.PROBABLE


class RedirectPluginBase(StandardPlugin):
    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self._tpl_helper = TemplatePluginHelper(plugin_dir)
        self._device_dir = os.path.join(self._tftpboot_dir, 'Digium')
        self.http_service = HTTPNoListingFileService(self._tftpboot_dir)

    dhcp_dev_info_extractor = RedirectDHCPExtractor()
    http_dev_info_extractor = RedirectHTTPExtractor()

    def _path(self, device):
        return os.path.join(self._device_dir, format_mac(device['mac'], separator='') + '.cfg')

    def configure(self, device, raw_config):
        if 'mac' not in device:
            raise Exception('MAC address needed to configure the phone')
        tpl = self._tpl_helper.get_dev_template(None, device)
        os.makedirs(self._device_dir, exist_ok=True)
        self._tpl_helper.dump(tpl, raw_config, self._path(device), 'UTF-8')

    def deconfigure(self, device):
        try:
            os.remove(self._path(device))
        except (KeyError, OSError):
            pass
