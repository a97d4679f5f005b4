# Sample plugin of pytest-provd (test data): takes no device information and writes nothing.

from wazo_provd.plugins import Plugin
from wazo_provd.servers.tftp.service import TFTPNullService


class AcmeCatchallPlugin(Plugin):
    IS_PLUGIN = True

    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self.tftp_service = TFTPNullService(errmsg='catchall: nothing here')

    def configure(self, device, raw_config):
        pass

    def deconfigure(self, device):
        pass

    def configure_common(self, raw_config):
        pass

    def is_sensitive_filename(self, filename):
        return False
