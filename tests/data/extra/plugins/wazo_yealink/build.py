# Build script of the pytest-provd sample "wazo_yealink" family (test data).
#
# Executed by the plugin builder with an injected `target(target_id, plugin_id,
# std_dirs=True)` decorator and this directory as the working directory.
# External programs: rsync.

from subprocess import check_call


@target('v86', 'wazo-yealink-v86')
def build_v86(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v86/', path])
