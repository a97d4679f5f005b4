# Shared code of the pytest-provd sample "wazo_aastra" family (test data, written for
# pytest-provd).  Loaded by each version's entry.py through execfile_('common.py', ...).

from __future__ import annotations

import logging
import os
import re

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

log = logging.getLogger('plugin.wazo-aastra')

# 'Aastra6865i MAC:00-08-5D-40-90-5F V:4.3.0.1550-SIP' (Mitel-branded firmwares say 'Mitel')
UA_RE = re.compile(
    r'^(?:Aastra|Mitel)(?P<model>\w+) MAC:(?P<mac>[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}) '
    r'V:(?P<version>[\w.]+)-SIP$'
)
# the 675xi phones announce themselves with their short 5xi names
SHORT_NAMES = {'53i': '6753i', '55i': '6755i', '57i': '6757i'}


def cfg_value(value):
    """A raw config value as one `key: value` line can hold it (no CR/LF, trimmed)."""
    if value is None:
        return ''
    return ' '.join(str(value).splitlines()).strip()


def _text(value):
    if isinstance(value, bytes):
        return value.decode('latin-1')
    return value


class AastraHTTPExtractor:
    def extract(self, request, request_type):
        return defer.succeed(self.extract_sync(request))

    def extract_sync(self, request):
        ua = _text(request.getHeader(b'User-Agent'))
        match = UA_RE.match(ua) if ua else None
        if not match:
            return None
        model = match.group('model')
        return {
            'vendor': 'Aastra',
            'model': SHORT_NAMES.get(model, model),
            'version': match.group('version'),
            'mac': norm_mac(match.group('mac')),
        }


class AastraAssociator(BasePgAssociator):
    def __init__(self, model_versions):
        super().__init__()
        self._model_versions = dict(model_versions)

    def _do_associate(self, vendor, model, version):
        if vendor != 'Aastra':
            return DeviceSupport.IMPROBABLE
        if model not in self._model_versions:
            return DeviceSupport.UNKNOWN
        if version == self._model_versions[model]:
            return DeviceSupport.EXACT
        return DeviceSupport.COMPLETE


class AastraPluginBase(StandardPlugin):
    _ENCODING = 'UTF-8'
    # locale -> (language file or None for the built-in English, tone set)
    _LANGUAGES = {
        'de_DE': ('lang_de.txt', 'Germany'),
        'en_US': (None, 'US'),
        'fr_FR': ('lang_fr.txt', 'France'),
        'fr_CA': ('lang_fr_ca.txt', 'Canada'),
    }
    _DTMF = {'RTP-in-band': '0', 'RTP-out-of-band': '1', 'SIP-INFO': '2'}
    _TRANSPORTS = {'udp': '1', 'tcp': '2', 'tls': '4'}
    _SENSITIVE_RE = re.compile(r'^[0-9A-F]{12}\.cfg$')
    # where `language 1:` points; 3.x firmwares resolve it from /Aastra/, later ones from /
    _LANGUAGE_PATH = 'Aastra/i18n/'

    http_dev_info_extractor = AastraHTTPExtractor()

    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        # the phones look for their files under /Aastra/
        self._root_dir = self._tftpboot_dir
        self._tftpboot_dir = os.path.join(self._root_dir, 'Aastra')
        self._tpl_helper = TemplatePluginHelper(plugin_dir)
        downloaders = FetchfwPluginHelper.new_downloaders(gen_cfg.get('proxies'))
        fetchfw_helper = FetchfwPluginHelper(plugin_dir, downloaders)
        fetchfw_helper.root_dir = self._tftpboot_dir
        self.services = fetchfw_helper.services()
        self.http_service = HTTPNoListingFileService(self._root_dir)

    def _set_lines(self, raw_config):
        dtmf_default = raw_config.get('sip_dtmf_mode')
        lines = []
        for line_no in sorted(raw_config.get('sip_lines', {}), key=int):
            line = raw_config['sip_lines'][line_no]
            proxy_ip = line.get('proxy_ip') or raw_config.get('sip_proxy_ip')
            proxy_port = line.get('proxy_port') or raw_config.get('sip_proxy_port') or 5060
            registrar_ip = line.get('registrar_ip') or raw_config.get('sip_registrar_ip') or proxy_ip
            registrar_port = line.get('registrar_port') or proxy_port
            lines.append((int(line_no), {
                'proxy_ip': cfg_value(proxy_ip),
                'proxy_port': cfg_value(proxy_port),
                'registrar_ip': cfg_value(registrar_ip),
                'registrar_port': cfg_value(registrar_port),
                'username': cfg_value(line.get('username')),
                'auth_name': cfg_value(line.get('auth_username') or line.get('username')),
                'password': cfg_value(line.get('password')),
                'display_name': cfg_value(line.get('display_name')),
                'number': cfg_value(line.get('number')),
                'voicemail': cfg_value(line.get('voicemail') or raw_config.get('exten_voicemail')),
                'dtmf': self._DTMF.get(line.get('dtmf_mode', dtmf_default), '1'),
            }))
        raw_config['XX_lines'] = lines
        raw_config['XX_transport'] = self._TRANSPORTS.get(raw_config.get('sip_transport'), '1')

    def _set_locale_and_timezone(self, raw_config):
        lang = self._LANGUAGES.get(raw_config.get('locale'))
        if lang:
            if lang[0]:
                raw_config['XX_language_file'] = self._LANGUAGE_PATH + lang[0]
            raw_config['XX_tone_set'] = lang[1]
        if raw_config.get('timezone'):
            try:
                info = tzinform.get_timezone_info(raw_config['timezone'])
            except tzinform.TimezoneNotFoundError:
                log.warning('unknown timezone %r', raw_config['timezone'])
            else:
                # the phone wants minutes *west* of UTC
                raw_config['XX_timezone_minutes'] = str(-info['utcoffset'].as_minutes)
                raw_config['XX_dst'] = '1' if info.get('dst') else '0'

    def _set_misc(self, raw_config):
        raw_config['XX_admin_password'] = cfg_value(raw_config.get('admin_password'))
        raw_config['XX_ntp_ip'] = cfg_value(raw_config.get('ntp_ip'))

    def configure_common(self, raw_config):
        # aastra.cfg is static (var/tftpboot/Aastra/aastra.cfg); <model>.cfg is not served
        pass

    def _device_file(self, device):
        return format_mac(device['mac'], separator='', uppercase=True) + '.cfg'

    def configure(self, device, raw_config):
        if 'http_port' not in raw_config:
            raise RawConfigError('only support configuration via HTTP')
        if 'mac' not in device:
            raise Exception('MAC address needed for device configuration')
        filename = self._device_file(device)
        self._set_lines(raw_config)
        self._set_locale_and_timezone(raw_config)
        self._set_misc(raw_config)
        tpl = self._tpl_helper.get_dev_template(filename, device)
        path = os.path.join(self._tftpboot_dir, filename)
        self._tpl_helper.dump(tpl, raw_config, path, self._ENCODING)

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
