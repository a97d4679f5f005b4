# Build script of the pytest-provd verdict sample "wazo_redirect" (test data, written for
# pytest-provd): Digium-like phones fetching <mac>.cfg below /Digium/, for a dhcpd
# configuration (../../dhcp) that reaches D40 by vendor class, D45 by MAC prefix at another
# path, and D60 not at all.
#
# Executed by the plugin builder with an injected `target(target_id, plugin_id,
# std_dirs=True)` decorator and this directory as the working directory.
# External programs: rsync.

from subprocess import check_call


@target('2.0', 'wazo-digium-redirect-2.0')
def build_2_0(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v2/', path])
