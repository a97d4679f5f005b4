# Build script of the pytest-provd verdict sample "wazo_push" (test data, written for
# pytest-provd): a push plugin, which writes no file at configure time and sends the lines to
# the base's web interface when provd synchronizes the device.
#
# Executed by the plugin builder with an injected `target(target_id, plugin_id,
# std_dirs=True)` decorator and this directory as the working directory.
# External programs: rsync.

from subprocess import check_call


@target('c470', 'wazo-gigaset-push-c470')
def build_c470(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', 'c470/', path])
