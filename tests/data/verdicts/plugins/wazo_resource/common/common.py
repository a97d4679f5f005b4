# Shared code of the pytest-provd verdict sample "wazo_resource" (test data, written for
# pytest-provd).  Loaded by each target's entry.py through execfile_('common.py', ...).
#
# The softphone posts its installation UUID to a resource of the plugin's HTTP service; the
# configuration written at configure time is named after that UUID.

from __future__ import annotations

import logging
import os
import re

from twisted.internet import defer
from twisted.web.resource import Resource
from wazo_provd.devices.pgasso import BasePgAssociator, DeviceSupport
from wazo_provd.plugins import StandardPlugin, TemplatePluginHelper
from wazo_provd.util import is_normed_uuid, norm_uuid

log = logging.getLogger('plugin.wazo-resource')


class SoftphoneExtractor:
    """User-Agent '<Product>/<version>' and the uuid query argument."""

    def __init__(self, vendor, product):
        self._vendor = vendor
        self._ua = re.compile(rf'^{re.escape(product)}/(\S+)$')
        self._product = product

    def extract(self, request, request_type):
        ua = request.getHeader(b'User-Agent')
        found = self._ua.match(ua.decode('latin-1')) if ua else None
        if not found:
            return defer.succeed(None)
        info = {'vendor': self._vendor, 'model': self._product, 'version': found.group(1)}
        raw = request.args.get(b'uuid', [b''])[0].decode('ascii', 'replace')
        if raw:
            try:
                info['uuid'] = norm_uuid(raw)
            except ValueError:
                log.info('not a UUID: %r', raw)
        return defer.succeed(info)


class SoftphoneAssociator(BasePgAssociator):
    def __init__(self, vendor, product):
        super().__init__()
        self._vendor, self._product = vendor, product

    def _do_associate(self, vendor, model, version):
        if vendor == self._vendor and model == self._product:
            return DeviceSupport.EXACT
        return DeviceSupport.IMPROBABLE


class ConfigResource(Resource):
    """POST ?uuid=<uuid>: the configuration written for that UUID."""

    isLeaf = True

    def __init__(self, directory):
        super().__init__()
        self._directory = directory

    def render_POST(self, request):
        raw = request.args.get(b'uuid', [b''])[0].decode('ascii', 'replace')
        if not is_normed_uuid(raw):
            request.setResponseCode(400)
            return b'bad uuid'
        try:
            with open(os.path.join(self._directory, raw), 'rb') as fobj:
                return fobj.read()
        except OSError:
            request.setResponseCode(404)
            return b'not found'


class SoftphonePluginBase(StandardPlugin):
    """Subclasses set _RESOURCE, the name of their resource."""

    _RESOURCE = b'provisioning'

    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self._tpl_helper = TemplatePluginHelper(plugin_dir)
        root = Resource()
        root.putChild(self._RESOURCE, ConfigResource(self._tftpboot_dir))
        self.http_service = root

    def configure(self, device, raw_config):
        if not is_normed_uuid(device.get('uuid', '')):
            raise Exception('a normalized UUID is needed to configure a softphone')
        tpl = self._tpl_helper.get_dev_template(device['uuid'], device)
        path = os.path.join(self._tftpboot_dir, device['uuid'])
        self._tpl_helper.dump(tpl, raw_config, path, 'UTF-8')

    def deconfigure(self, device):
        try:
            os.remove(os.path.join(self._tftpboot_dir, device['uuid']))
        except (KeyError, OSError) as exc:
            log.info('nothing to remove: %s', exc)

    def get_remote_state_trigger_filename(self, device):
        return device.get('uuid')
