# Shared code of the pytest-provd sample "wazo_snom" family (test data, written for
# pytest-provd).  Loaded by each version's entry.py through execfile_('common.py', ...).

from __future__ import annotations

import logging
import os
import re
from xml.sax.saxutils import escape

from twisted.internet import defer
from wazo_provd import synchronize, tzinform
from wazo_provd.devices.config import RawConfigError
from wazo_provd.devices.pgasso import BasePgAssociator, DeviceSupport
from wazo_provd.plugins import (
    FetchfwPluginHelper,
    StandardPlugin,
    TemplatePluginHelper,
)
from wazo_provd.servers.http import HTTPNoListingFileService
from wazo_provd.util import format_mac, norm_mac

log = logging.getLogger('plugin.wazo-snom')

# 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.215.13 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)'
UA_RE = re.compile(r'\bsnom(?P<model>\w+)-SIP (?P<version>\d+(?:\.\d+)+)(?P<tail>[^)]*)')
UA_MAC_RE = re.compile(r'(?:^|\s)(?P<mac>[0-9A-F]{12})(?=\s|$)')
PATH_MAC_RE = re.compile(r'/snom\w+-(?P<mac>[0-9A-F]{12})\.htm$')
VCI_RE = re.compile(r'^snom(?P<model>[A-Z]?\d+\w*)$')


def _text(value):
    if isinstance(value, bytes):
        return value.decode('latin-1')
    return value


class SnomHTTPExtractor:
    def extract(self, request, request_type):
        return defer.succeed(self.extract_sync(request))

    def extract_sync(self, request):
        ua = _text(request.getHeader(b'User-Agent'))
        if not ua:
            return None
        match = UA_RE.search(ua)
        if not match:
            return None
        info = {
            'vendor': 'Snom',
            'model': match.group('model'),
            'version': match.group('version'),
        }
        mac = UA_MAC_RE.search(match.group('tail'))
        if mac:
            info['mac'] = norm_mac(mac.group('mac'))
        else:
            path_mac = PATH_MAC_RE.search(_text(request.path))
            if path_mac:
                info['mac'] = norm_mac(path_mac.group('mac'))
        arg_mac = request.args.get(b'mac')
        if 'mac' not in info and arg_mac:
            try:
                info['mac'] = norm_mac(_text(arg_mac[0]))
            except ValueError:
                pass
        return info


class SnomDHCPExtractor:
    def extract(self, request, request_type):
        vci = _text(request['options'].get(60))
        if vci:
            match = VCI_RE.match(vci)
            if match:
                return defer.succeed({'vendor': 'Snom', 'model': match.group('model')})
        return defer.succeed(None)


def _version_tuple(version):
    parts = []
    for token in version.split('.'):
        if not token.isdigit():
            break
        parts.append(int(token))
    return tuple(parts)


class SnomAssociator(BasePgAssociator):
    def __init__(self, models, version):
        super().__init__()
        self._models = set(models)
        self._version = version

    def _do_associate(self, vendor, model, version):
        if vendor != 'Snom':
            return DeviceSupport.IMPROBABLE
        if version is not None and _version_tuple(version) < (8,):
            # older than 8.x: no XML provisioning, not for this family
            return DeviceSupport.NONE
        if model in self._models:
            if version == self._version:
                return DeviceSupport.EXACT
            return DeviceSupport.COMPLETE
        return DeviceSupport.PROBABLE


class SnomPluginBase(StandardPlugin):
    _ENCODING = 'UTF-8'
    # locale -> (language name, tone scheme / timezone country prefix)
    _LANGUAGES = {
        'de_DE': ('Deutsch', 'GER'),
        'en_US': ('English', 'USA'),
        'fr_FR': ('Français', 'FRA'),
        'fr_CA': ('Français', 'CAN'),
    }
    _DTMF = {'SIP-INFO': 'sip_info_only', 'RTP-in-band': 'off', 'RTP-out-of-band': 'off'}
    _TRANSPORTS = ('udp', 'tcp', 'tls')
    _SENSITIVE_RE = re.compile(r'^[0-9A-F]{12}\.xml$')

    http_dev_info_extractor = SnomHTTPExtractor()
    dhcp_dev_info_extractor = SnomDHCPExtractor()

    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self._tpl_helper = TemplatePluginHelper(plugin_dir)
        downloaders = FetchfwPluginHelper.new_downloaders(gen_cfg.get('proxies'))
        fetchfw_helper = FetchfwPluginHelper(plugin_dir, downloaders)
        self.services = fetchfw_helper.services()
        self.http_service = HTTPNoListingFileService(self._tftpboot_dir)

    # --- helpers filling XX_* keys of the raw config -------------------------------

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
            line['XX_registrar'] = (
                line.get('registrar_ip') or raw_config.get('sip_registrar_ip') or proxy_ip
            )
            line['XX_outbound'] = f'{proxy_ip}:{proxy_port}' if proxy_port else proxy_ip
            line['XX_auth_name'] = line.get('auth_username') or line.get('username', '')
            line['XX_dtmf'] = self._DTMF.get(line.get('dtmf_mode', dtmf_default), 'off')
            line.setdefault('voicemail', raw_config.get('exten_voicemail', ''))
            lines.append((int(line_no), line))
        raw_config['XX_lines'] = lines
        transport = raw_config.get('sip_transport')
        raw_config['XX_sip_transport'] = transport if transport in self._TRANSPORTS else 'udp'

    def _set_locale_and_timezone(self, raw_config):
        lang = self._LANGUAGES.get(raw_config.get('locale'))
        if lang:
            raw_config['XX_lang'] = lang
        if raw_config.get('timezone'):
            try:
                info = tzinform.get_timezone_info(raw_config['timezone'])
            except tzinform.TimezoneNotFoundError:
                log.warning('unknown timezone %r', raw_config['timezone'])
            else:
                prefix = lang[1] if lang else 'GMT'
                raw_config['XX_timezone'] = f"{prefix}{info['utcoffset'].as_hours:+d}"

    def _set_fkeys(self, raw_config):
        keys = []
        for key_no, fkey in sorted(raw_config.get('funckeys', {}).items(), key=lambda i: int(i[0])):
            if fkey.get('type') == 'speeddial':
                action = f"speed {fkey['value']}"
            elif fkey.get('type') == 'blf':
                action = f"blf <sip:{fkey['value']}@{raw_config.get('sip_proxy_ip', '')}>"
            else:
                continue
            label = escape(fkey.get('label') or fkey['value'], {'"': '&quot;'})
            keys.append(
                f'<fkey idx="{int(key_no) - 1}" label="{label}" perm="R">{escape(action)}</fkey>'
            )
        raw_config['XX_fkeys'] = '\n    '.join(keys)

    # --- provd plugin interface ----------------------------------------------------

    def _model_files(self):
        for model in self._MODELS:
            yield f'common/snom{model}.htm.tpl', f'snom{model}.htm'
            yield f'common/snom{model}.xml.tpl', f'snom{model}.xml'
            yield f'common/snom{model}-firmware.xml.tpl', f'snom{model}-firmware.xml'

    def configure_common(self, raw_config):
        self._set_server_url(raw_config)
        for tpl_name, filename in self._model_files():
            tpl = self._tpl_helper.get_template(tpl_name)
            dst = os.path.join(self._tftpboot_dir, filename)
            self._tpl_helper.dump(tpl, raw_config, dst, self._ENCODING)

    def _device_files(self, device):
        mac = format_mac(device['mac'], separator='', uppercase=True)
        return f"snom{device['model']}-{mac}.htm", f'{mac}.xml'

    def _check_device(self, device):
        for key in ('mac', 'model'):
            if key not in device:
                raise Exception(f'{key} needed for device configuration')

    def configure(self, device, raw_config):
        if 'http_port' not in raw_config:
            raise RawConfigError('only support configuration via HTTP')
        self._check_device(device)
        htm_name, xml_name = self._device_files(device)
        self._set_server_url(raw_config)
        self._set_lines(raw_config)
        self._set_locale_and_timezone(raw_config)
        self._set_fkeys(raw_config)
        raw_config['XX_xml_filename'] = xml_name

        tpl = self._tpl_helper.get_dev_template(xml_name, device)
        self._tpl_helper.dump(
            tpl, raw_config, os.path.join(self._tftpboot_dir, xml_name), self._ENCODING
        )
        tpl = self._tpl_helper.get_template('other/device.htm.tpl')
        self._tpl_helper.dump(
            tpl, raw_config, os.path.join(self._tftpboot_dir, htm_name), self._ENCODING
        )

    def deconfigure(self, device):
        for filename in self._device_files(device):
            try:
                os.remove(os.path.join(self._tftpboot_dir, filename))
            except OSError as e:
                log.info('could not remove %s: %s', filename, e)

    def synchronize(self, device, raw_config):
        return synchronize.standard_sip_synchronize(device, event='check-sync;reboot=false')

    def get_remote_state_trigger_filename(self, device):
        if 'mac' not in device or 'model' not in device:
            return None
        return self._device_files(device)[1]

    def is_sensitive_filename(self, filename):
        return bool(self._SENSITIVE_RE.match(filename))
