# Shared code of the pytest-provd sample "wazo_yealink" family (test data, written for
# pytest-provd).  Loaded by each version's entry.py through execfile_('common.py', ...).

from __future__ import annotations

import logging
import os
import re

from twisted.internet import defer
from wazo_provd import synchronize
from wazo_provd.devices.config import RawConfigError
from wazo_provd.devices.pgasso import BasePgAssociator, DeviceSupport
from wazo_provd.plugins import FetchfwPluginHelper, StandardPlugin, TemplatePluginHelper
from wazo_provd.servers.http import HTTPNoListingFileService
from wazo_provd.util import format_mac, norm_mac

log = logging.getLogger('plugin.wazo-yealink')

# User-Agent: 'Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc'
UA_RE = re.compile(
    r'^[yY]ealink SIP-(?P<model>\w+) (?P<version>[\d.]+) (?P<mac>[0-9a-fA-F:]{17})$'
)


class YealinkHTTPExtractor:
    def extract(self, request, request_type):
        ua = request.getHeader(b'User-Agent')
        match = UA_RE.match(ua.decode('ascii', 'replace')) if ua else None
        if not match:
            return defer.succeed(None)
        return defer.succeed(
            {
                'vendor': 'Yealink',
                'model': match.group('model'),
                'version': match.group('version'),
                'mac': norm_mac(match.group('mac')),
            }
        )


class YealinkAssociator(BasePgAssociator):
    def __init__(self, model_info):
        super().__init__()
        self._versions = {model: info['version'] for model, info in model_info.items()}

    def _do_associate(self, vendor, model, version):
        if vendor != 'Yealink':
            return DeviceSupport.IMPROBABLE
        if model not in self._versions:
            return DeviceSupport.PROBABLE if model is None else DeviceSupport.IMPROBABLE
        if version == self._versions[model]:
            return DeviceSupport.EXACT
        return DeviceSupport.COMPLETE


class YealinkPluginBase(StandardPlugin):
    """Subclasses set _MODEL_INFO: {model: {'version': ..., 'firmware': file name}}."""

    _ENCODING = 'UTF-8'
    _SENSITIVE_RE = re.compile(r'^[0-9a-f]{12}\.cfg$')

    http_dev_info_extractor = YealinkHTTPExtractor()

    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self._tpl_helper = TemplatePluginHelper(plugin_dir)
        downloaders = FetchfwPluginHelper.new_downloaders(gen_cfg.get('proxies'))
        self.services = FetchfwPluginHelper(plugin_dir, downloaders).services()
        self.http_service = HTTPNoListingFileService(self._tftpboot_dir)

    def _device_file(self, device):
        return format_mac(device['mac'], separator='') + '.cfg'

    def configure(self, device, raw_config):
        if 'http_port' not in raw_config:
            raise RawConfigError('only support configuration via HTTP')
        if 'mac' not in device:
            raise Exception('MAC address needed for device configuration')
        base = raw_config.get('http_base_url') or (
            f"http://{raw_config['ip']}:{raw_config['http_port']}"
        )
        raw_config['XX_server_url'] = base.rstrip('/')
        info = self._MODEL_INFO.get(device.get('model'), {})
        raw_config['XX_fw_filename'] = info.get('firmware', '')
        raw_config['XX_lines'] = sorted(
            (int(n), line) for n, line in raw_config.get('sip_lines', {}).items()
        )
        for _, line in raw_config['XX_lines']:
            line.setdefault('proxy_ip', raw_config.get('sip_proxy_ip', ''))
        filename = self._device_file(device)
        tpl = self._tpl_helper.get_dev_template(filename, device)
        path = os.path.join(self._tftpboot_dir, filename)
        self._tpl_helper.dump(tpl, raw_config, path, self._ENCODING, errors='replace')

    def deconfigure(self, device):
        try:
            os.remove(os.path.join(self._tftpboot_dir, self._device_file(device)))
        except OSError as e:
            log.info('could not remove device file: %s', e)

    def synchronize(self, device, raw_config):
        return synchronize.standard_sip_synchronize(device)

    def get_remote_state_trigger_filename(self, device):
        if 'mac' not in device:
            return None
        return self._device_file(device)

    def is_sensitive_filename(self, filename):
        return bool(self._SENSITIVE_RE.match(filename))
