# Shared code of the pytest-provd sample "wazo_lab" family (test data, written for
# pytest-provd).  Loaded by each target's entry.py through execfile_('common.py', ...).
#
# One configurable plugin: each target says, in class attributes, how its phones identify
# themselves (User-Agent, path, DHCP option 60, TFTP file name) and which files they fetch.

from __future__ import annotations

import http.cookiejar
import logging
import os
import re
import urllib.parse
import urllib.request

from twisted.internet import defer, threads
from twisted.web.resource import Resource
from wazo_provd import synchronize
from wazo_provd.devices.config import RawConfigError
from wazo_provd.devices.pgasso import BasePgAssociator, DeviceSupport
from wazo_provd.plugins import StandardPlugin, TemplatePluginHelper
from wazo_provd.servers.http import HTTPNoListingFileService
from wazo_provd.servers.tftp.service import TFTPFileService
from wazo_provd.util import format_mac, norm_mac, norm_uuid

log = logging.getLogger("plugin.wazo-lab")


class LabExtractor:
    """Device info by regular expressions with named groups (model, version, mac)."""

    def __init__(self, vendor, ua=(), path=(), vci=(), tftp=(), models=None, fixed=None):
        self._vendor = vendor
        self._ua = [re.compile(r) for r in ([ua] if isinstance(ua, str) else ua)]
        self._path = [re.compile(r) for r in ([path] if isinstance(path, str) else path)]
        self._vci = [re.compile(r) for r in ([vci] if isinstance(vci, str) else vci)]
        self._tftp = [re.compile(r) for r in ([tftp] if isinstance(tftp, str) else tftp)]
        self._models = models or {}  # a name in a regex group -> the model provd keeps
        self._fixed = fixed or {}  # added to whatever matched

    def extract(self, request, request_type):
        return defer.succeed(self._info(request) or None)

    def _info(self, request):
        found = []
        if isinstance(request, dict) and "options" in request:
            vci = request["options"].get(60)
            found += [r.search(vci) for r in self._vci if vci]
        elif isinstance(request, dict) and "packet" in request:
            name = request["packet"]["filename"].decode("ascii", "replace")
            found += [r.search(name) for r in self._tftp]
        else:
            ua = request.getHeader(b"User-Agent")
            found += [r.search(ua.decode("latin-1")) for r in self._ua if ua]
            path = request.path.decode("ascii", "replace")
            found += [r.search(path) for r in self._path]
            uuid = request.args.get(b"uuid", [b""])[0].decode("ascii", "replace")
            if uuid and any(found):
                try:
                    found.append({"uuid": norm_uuid(uuid)})
                except ValueError:
                    log.info("not a UUID: %r", uuid)
        info = {}
        for match in found:
            groups = match if isinstance(match, dict) else (match.groupdict() if match else {})
            for key, value in groups.items():
                if value:
                    info[key] = value
        if not info:
            return None
        info.update(self._fixed)
        info["vendor"] = self._vendor
        if "model" in info:
            model = info["model"].replace(" Pro", "-Pro")
            info["model"] = self._models.get(model, model)
        if "mac" in info:
            info["mac"] = norm_mac(info["mac"].replace("_", ""))
        return info


class LabAssociator(BasePgAssociator):
    def __init__(self, vendor, models):
        super().__init__()
        self._vendor = vendor
        self._models = models

    def _do_associate(self, vendor, model, version):
        if vendor != self._vendor:
            return DeviceSupport.IMPROBABLE
        if model in self._models:
            return DeviceSupport.EXACT if version == self._models[model] else DeviceSupport.COMPLETE
        return DeviceSupport.PROBABLE


class JitsiResource(Resource):
    """POST /jitsi?uuid=<uuid>: the configuration file named after the UUID."""

    isLeaf = True

    def __init__(self, root):
        super().__init__()
        self._root = root

    def render_POST(self, request):
        raw = request.args.get(b"uuid", [b""])[0].decode("ascii", "replace")
        try:
            uuid = norm_uuid(raw)
        except ValueError:
            request.setResponseCode(400)
            return b"bad uuid"
        try:
            with open(os.path.join(self._root, uuid), "rb") as fobj:
                return fobj.read()
        except OSError:
            request.setResponseCode(404)
            return b"not found"


class LabPluginBase(StandardPlugin):
    """Targets set _MODELS ({model: version}), _DEVICE_FILE (a format of mac, MAC, mac_ and
    model; _DEVICE_FILES by model) and optionally _COMMON ({file: template}), _ENCODING,
    _TFTP, _WEB (settings pushed to the phone's web interface), _JITSI."""

    _ENCODING = "UTF-8"
    _COMMON = {}
    _DEVICE_FILE = "{mac}.cfg"
    _DEVICE_FILES = {}
    _TFTP = False
    _WEB = False
    _JITSI = False

    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self._tpl_helper = TemplatePluginHelper(plugin_dir)
        if self._JITSI:
            root = Resource()
            root.putChild(b"jitsi", JitsiResource(self._tftpboot_dir))
            self.http_service = root
        else:
            self.http_service = HTTPNoListingFileService(self._tftpboot_dir)
        if self._TFTP:
            self.tftp_service = TFTPFileService(self._tftpboot_dir)

    def _server_url(self, raw_config):
        base = raw_config.get("http_base_url") or (
            f"http://{raw_config['ip']}:{raw_config['http_port']}"
        )
        return base.rstrip("/")

    def _device_file(self, device):
        if self._JITSI:
            return device["uuid"]
        mac = format_mac(device["mac"], separator="")
        pattern = self._DEVICE_FILES.get(device.get("model"), self._DEVICE_FILE)
        return pattern.format(
            mac=mac,
            MAC=mac.upper(),
            mac_=format_mac(device["mac"], separator="_"),
            model=device.get("model", ""),
        )

    def configure_common(self, raw_config):
        raw_config = dict(raw_config, XX_server_url=self._server_url(raw_config))
        for filename, tpl_name in self._COMMON.items():
            tpl = self._tpl_helper.get_template(tpl_name)
            path = os.path.join(self._tftpboot_dir, filename)
            self._tpl_helper.dump(tpl, raw_config, path, self._ENCODING)

    def configure(self, device, raw_config):
        if "http_port" not in raw_config:
            raise RawConfigError("only support configuration via HTTP")
        needed = "ip" if self._WEB else "uuid" if self._JITSI else "mac"
        if needed not in device:
            raise Exception(f"{needed} needed for device configuration")
        if self._WEB:
            return  # settings are pushed at synchronize time
        raw_config["XX_server_url"] = self._server_url(raw_config)
        raw_config["XX_lines"] = sorted(
            (int(n), line) for n, line in raw_config.get("sip_lines", {}).items()
        )
        filename = self._device_file(device)
        tpl = self._tpl_helper.get_dev_template(filename, device)
        path = os.path.join(self._tftpboot_dir, filename)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._tpl_helper.dump(tpl, raw_config, path, self._ENCODING, errors="replace")

    def deconfigure(self, device):
        if self._WEB:
            return
        try:
            os.remove(os.path.join(self._tftpboot_dir, self._device_file(device)))
        except (OSError, KeyError) as e:
            log.info("could not remove device file: %s", e)

    def synchronize(self, device, raw_config):
        if self._WEB:
            return threads.deferToThread(self._drive_web, device["ip"], raw_config)
        return synchronize.standard_sip_synchronize(device)

    def _drive_web(self, host, raw_config):
        """Log in to the base's web interface and post each line."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def post(page, fields):
            body = urllib.parse.urlencode(fields).encode("ascii")
            with opener.open(f"http://{host}/{page}", body, timeout=10) as fobj:
                fobj.read()
                return fobj.geturl()

        if not post("login.html", {"language": "1", "password": "0000"}).endswith("/home.html"):
            raise Exception("login refused")
        for number, line in sorted(raw_config.get("sip_lines", {}).items()):
            post(
                f"settings_telephony_voip.html?id={int(number) - 1}",
                {
                    "account_id": int(number) - 1,
                    "sip_user_id": line["username"],
                    "sip_login_id": line.get("auth_username", line["username"]),
                    "sip_password": line["password"],
                    "sip_password_2": line["password"],
                    "sip_display_name": line["display_name"],
                    "sip_registrar": line.get("registrar_ip", ""),
                    "sip_server": line.get("proxy_ip", ""),
                    "do_delete": "0",
                },
            )
        post("settings_lab.html", {"use_ntp": "1"})
        with opener.open(f"http://{host}/logout.html", timeout=10) as fobj:
            fobj.read()

    def get_remote_state_trigger_filename(self, device):
        if self._WEB or ("uuid" if self._JITSI else "mac") not in device:
            return None
        return self._device_file(device)
