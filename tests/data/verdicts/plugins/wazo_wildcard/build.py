# Build script of the pytest-provd verdict sample "wazo_wildcard" (test data, written for
# pytest-provd): a plugin whose only capability is the wildcard "*, *, *", like provd's
# null and zero plugins: it serves any device and names no phone model.
#
# Executed by the plugin builder with an injected `target(target_id, plugin_id,
# std_dirs=True)` decorator and this directory as the working directory.
# External programs: rsync.

from subprocess import check_call


@target('catchall', 'wazo-acme-catchall')
def build_catchall(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', 'catchall/', path])
