# Shared code of the pytest-provd verdict sample "wazo_push" (test data, written for
# pytest-provd).  Loaded by entry.py through execfile_('common.py', ...).
#
# A push plugin: configure writes nothing; synchronize logs in to the base's web interface
# (http://<device ip>/, PIN from the rendered device template) and posts each SIP account.

from __future__ import annotations

import configparser
import http.cookiejar
import logging
import urllib.parse
import urllib.request

from twisted.internet import defer, threads
from wazo_provd.devices.pgasso import BasePgAssociator, DeviceSupport
from wazo_provd.plugins import StandardPlugin, TemplatePluginHelper

log = logging.getLogger('plugin.wazo-push')

TIMEOUT = 10
ACCOUNTS = 6


class PushDHCPExtractor:
    """Option 60 'C470_IP' names the base."""

    def __init__(self, models):
        self._by_vci = {model.replace(' ', '_'): model for model in models}

    def extract(self, request, request_type):
        vci = request['options'].get(60)
        if isinstance(vci, bytes):
            vci = vci.decode('latin-1')
        model = self._by_vci.get(vci or '')
        return defer.succeed({'vendor': 'Gigaset', 'model': model} if model else None)


class PushAssociator(BasePgAssociator):
    def __init__(self, models):
        super().__init__()
        self._models = models

    def _do_associate(self, vendor, model, version):
        if vendor != 'Gigaset':
            return DeviceSupport.IMPROBABLE
        return DeviceSupport.COMPLETE if model in self._models else DeviceSupport.PROBABLE


class WebSession:
    """A logged-in session on the base's web interface."""

    def __init__(self, host):
        self._base = f'http://{host}/'
        jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def post(self, page, fields):
        data = urllib.parse.urlencode(fields).encode('ascii')
        with self._opener.open(self._base + page, data, timeout=TIMEOUT) as resp:
            resp.read()
            return resp.geturl()

    def login(self, pin):
        landed = self.post('login.html', {'language': '1', 'password': pin})
        if not landed.endswith('/home.html'):
            raise RuntimeError(f'login refused by {self._base}')

    def logout(self):
        with self._opener.open(self._base + 'logout.html', timeout=TIMEOUT) as resp:
            resp.read()


class PushPluginBase(StandardPlugin):
    """Subclasses set _MODELS."""

    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self._tpl_helper = TemplatePluginHelper(plugin_dir)

    def configure(self, device, raw_config):
        if 'ip' not in device:
            raise Exception('the base is configured over its web interface: IP address needed')

    def deconfigure(self, device):
        pass  # nothing was written

    def synchronize(self, device, raw_config):
        if 'ip' not in device:
            return defer.fail(Exception('IP address needed for device synchronization'))
        return threads.deferToThread(self._push, device, raw_config)

    def _push(self, device, raw_config):
        tpl = self._tpl_helper.get_dev_template(None, device)
        settings = configparser.ConfigParser()
        settings.read_string(tpl.render(raw_config))
        session = WebSession(device['ip'])
        session.login(settings.get('general', 'pin', fallback='0000'))
        try:
            lines = raw_config.get('sip_lines', {})
            for number in range(1, ACCOUNTS + 1):
                line = lines.get(str(number))
                page = f'settings_telephony_voip.html?id={number - 1}'
                if line is None:
                    session.post(page, {'account_id': number - 1, 'do_delete': '1'})
                    continue
                proxy = line.get('proxy_ip') or raw_config.get('sip_proxy_ip', '')
                session.post(
                    page,
                    {
                        'account_id': number - 1,
                        'do_delete': '0',
                        'sip_user_id': line['username'],
                        'sip_login_id': line.get('auth_username', line['username']),
                        'sip_password': line['password'],
                        'sip_password_2': line['password'],
                        'sip_display_name': line['display_name'],
                        'sip_server': proxy,
                        'sip_server_port': str(raw_config.get('sip_proxy_port', 5060)),
                        'sip_registrar': line.get('registrar_ip') or proxy,
                    },
                )
        finally:
            session.logout()
