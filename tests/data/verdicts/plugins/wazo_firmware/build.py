# Build script of the pytest-provd verdict sample "wazo_firmware" (test data, written for
# pytest-provd): a pkgs.db with a package synthetic firmware can feed (unzip, cp) and one
# only the vendor's real files can (unsign).
#
# Executed by the plugin builder with an injected `target(target_id, plugin_id,
# std_dirs=True)` decorator and this directory as the working directory.
# External programs: rsync.

from subprocess import check_call


@target('1.0', 'wazo-acme-firmware-1.0')
def build_1_0(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v1/', path])
