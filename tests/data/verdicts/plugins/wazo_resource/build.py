# Build script of the pytest-provd verdict sample "wazo_resource" (test data, written for
# pytest-provd): softphones served through a resource of the plugin's own HTTP service
# (POST /<resource>?uuid=<uuid>), not as files of var/tftpboot.
#
# Executed by the plugin builder with an injected `target(target_id, plugin_id,
# std_dirs=True)` decorator and this directory as the working directory.
# External programs: rsync.

from subprocess import check_call


def _build(version_dir, path):
    check_call(['rsync', '-rlp', '--exclude', '.*', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', version_dir + '/', path])


@target('jitsi', 'wazo-jitsi-resource')
def build_jitsi(path):
    _build('jitsi', path)


@target('softphone', 'wazo-acme-softphone')
def build_softphone(path):
    _build('softphone', path)
