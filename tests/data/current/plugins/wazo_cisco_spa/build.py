# Build script of the pytest-provd sample "wazo_cisco_spa" family (test data).
#
# Executed by the plugin builder with an injected `target(target_id, plugin_id,
# std_dirs=True)` decorator and this directory as the working directory.
# External programs: rsync.

from subprocess import check_call


@target('7.5.5', 'wazo-cisco-spa-7.5.5')
def build_7_5_5(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v7_5_5/', path])


@target('7.6.2', 'wazo-cisco-spa-7.6.2')
def build_7_6_2(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v7_6_2/', path])
