# Shared code of the pytest-provd sample "wazo-cisco-spa" family, legacy layout (test data, written for
# pytest-provd).  Loaded by each version's entry.py through execfile_('common.py', ...).

from __future__ import annotations

import logging
import os
import re

try:
    from wazo_provd import synchronize, tzinform
    from wazo_provd.devices.config import RawConfigError
    from wazo_provd.devices.pgasso import BasePgAssociator, DeviceSupport
    from wazo_provd.plugins import (
        FetchfwPluginHelper,
        StandardPlugin,
        TemplatePluginHelper,
    )
    from wazo_provd.servers.http import HTTPNoListingFileService
    from wazo_provd.servers.tftp.service import TFTPFileService
    from wazo_provd.util import format_mac, norm_mac
except ImportError:
    # provd before the wazo_provd rename
    from provd import synchronize, tzinform
    from provd.devices.config import RawConfigError
    from provd.devices.pgasso import BasePgAssociator, DeviceSupport
    from provd.plugins import (
        FetchfwPluginHelper,
        StandardPlugin,
        TemplatePluginHelper,
    )
    from provd.servers.http import HTTPNoListingFileService
    from provd.servers.tftp.service import TFTPFileService
    from provd.util import format_mac, norm_mac
from twisted.internet import defer

log = logging.getLogger('plugin.wazo-cisco-spa')

# DHCP option 60: 'Cisco SPA508G', 'Cisco SPA525g', 'Cisco Systems, Inc. IP Phone SPA508G'
VCI_RE = re.compile(r'^(?:Cisco|CISCO)(?: Systems, Inc\. IP Phone)? (?P<model>SPA\d{3}\w*)$')
# User-Agent: 'Cisco/SPA504G-7.5.5 (0002FDFF2103)(CBT1414001A)', MAC part optional
UA_RE = re.compile(
    r'^Cisco/(?P<model>SPA\w+)-(?P<version>[^\s(]+) '
    r'(?:\((?P<mac>[0-9A-Fa-f]{12})\))?\((?P<serial>\w+)\)$'
)
PATH_MAC_RE = re.compile(r'/(?P<mac>[0-9a-f]{12})\.xml$')
# TFTP read request for the common profile: '/spa504G.cfg'
TFTP_RE = re.compile(r'^/?spa(?P<psn>\w+)\.cfg$')


def _text(value):
    if isinstance(value, bytes):
        return value.decode('latin-1')
    return value


class SpaDHCPExtractor:
    def extract(self, request, request_type):
        vci = _text(request['options'].get(60))
        match = VCI_RE.match(vci) if vci else None
        if match:
            return defer.succeed({'vendor': 'Cisco', 'model': match.group('model').upper()})
        return defer.succeed(None)


class SpaHTTPExtractor:
    def extract(self, request, request_type):
        return defer.succeed(self.extract_sync(request))

    def extract_sync(self, request):
        ua = _text(request.getHeader(b'User-Agent'))
        match = UA_RE.match(ua) if ua else None
        if not match:
            return None
        info = {
            'vendor': 'Cisco',
            'model': match.group('model').upper(),
            'version': match.group('version'),
        }
        if match.group('mac'):
            info['mac'] = norm_mac(match.group('mac'))
        else:
            path_mac = PATH_MAC_RE.search(_text(request.path))
            if path_mac:
                info['mac'] = norm_mac(path_mac.group('mac'))
        return info


class SpaTFTPExtractor:
    def extract(self, request, request_type):
        filename = _text(request['packet']['filename'])
        match = TFTP_RE.match(filename)
        if match:
            return defer.succeed({'vendor': 'Cisco', 'model': 'SPA' + match.group('psn').upper()})
        return defer.succeed(None)


class SpaAssociator(BasePgAssociator):
    def __init__(self, model_version):
        super().__init__()
        self._model_version = dict(model_version)

    def _do_associate(self, vendor, model, version):
        if vendor != 'Cisco':
            return DeviceSupport.IMPROBABLE
        if model is None:
            return DeviceSupport.PROBABLE
        if model not in self._model_version:
            return DeviceSupport.IMPROBABLE
        if version == self._model_version[model]:
            return DeviceSupport.EXACT
        return DeviceSupport.COMPLETE


class SpaPluginBase(StandardPlugin):
    """Subclasses set _PSNS, the product series numbers ('504G') of their models."""

    _ENCODING = 'UTF-8'
    _LANGUAGES = {
        'de_DE': ('German', 'de-DE'),
        'en_US': ('English', 'en-US'),
        'fr_FR': ('French', 'fr-FR'),
        'fr_CA': ('French', 'fr-CA'),
    }
    _DTMF = {'RTP-in-band': 'InBand', 'RTP-out-of-band': 'AVT', 'SIP-INFO': 'INFO'}
    _SENSITIVE_RE = re.compile(r'^[0-9a-f]{12}\.xml$')

    dhcp_dev_info_extractor = SpaDHCPExtractor()
    http_dev_info_extractor = SpaHTTPExtractor()
    tftp_dev_info_extractor = SpaTFTPExtractor()

    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self._tpl_helper = TemplatePluginHelper(plugin_dir)
        downloaders = FetchfwPluginHelper.new_downloaders(gen_cfg.get('proxies'))
        fetchfw_helper = FetchfwPluginHelper(plugin_dir, downloaders)
        self.services = fetchfw_helper.services()
        self.http_service = HTTPNoListingFileService(self._tftpboot_dir)
        self.tftp_service = TFTPFileService(self._tftpboot_dir)

    def _set_server_url(self, raw_config):
        base = raw_config.get('http_base_url')
        if not base:
            base = f"http://{raw_config['ip']}:{raw_config['http_port']}"
        raw_config['XX_server_url'] = base.rstrip('/')

    def _set_lines(self, raw_config):
        dtmf_default = raw_config.get('sip_dtmf_mode')
        lines = []
        for line_no in sorted(raw_config.get('sip_lines', {}), key=int):
            line = raw_config['sip_lines'][line_no]
            proxy_ip = line.get('proxy_ip') or raw_config.get('sip_proxy_ip', '')
            proxy_port = line.get('proxy_port') or raw_config.get('sip_proxy_port')
            line['XX_proxy'] = f'{proxy_ip}:{proxy_port}' if proxy_port else proxy_ip
            line['XX_auth_id'] = line.get('auth_username') or line.get('username', '')
            line['XX_dtmf'] = self._DTMF.get(line.get('dtmf_mode', dtmf_default), 'Auto')
            lines.append((int(line_no), line))
        raw_config['XX_lines'] = lines
        raw_config['XX_station_name'] = lines[0][1].get('display_name', '') if lines else ''

    def _set_locale_and_timezone(self, raw_config):
        lang = self._LANGUAGES.get(raw_config.get('locale'))
        if lang:
            raw_config['XX_language'], raw_config['XX_locale'] = lang
        if raw_config.get('timezone'):
            try:
                info = tzinform.get_timezone_info(raw_config['timezone'])
            except tzinform.TimezoneNotFoundError:
                log.warning('unknown timezone %r', raw_config['timezone'])
            else:
                minutes = info['utcoffset'].as_minutes
                sign = '-' if minutes < 0 else '+'
                hours, mins = divmod(abs(minutes), 60)
                raw_config['XX_timezone'] = f'GMT{sign}{hours:02d}:{mins:02d}'
                raw_config['XX_dst'] = 'Yes' if info.get('dst') else 'No'

    def configure_common(self, raw_config):
        self._set_server_url(raw_config)
        tpl = self._tpl_helper.get_template('common/model.cfg.tpl')
        for psn in self._PSNS:
            dst = os.path.join(self._tftpboot_dir, f'spa{psn}.cfg')
            self._tpl_helper.dump(tpl, raw_config, dst, self._ENCODING)

    def _device_file(self, device):
        return format_mac(device['mac'], separator='') + '.xml'

    def configure(self, device, raw_config):
        if 'http_port' not in raw_config:
            raise RawConfigError('only support configuration via HTTP')
        if 'mac' not in device:
            raise Exception('MAC address needed for device configuration')
        filename = self._device_file(device)
        self._set_server_url(raw_config)
        self._set_lines(raw_config)
        self._set_locale_and_timezone(raw_config)
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
