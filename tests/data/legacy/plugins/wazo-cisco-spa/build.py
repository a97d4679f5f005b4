# Build script of the pytest-provd sample "wazo-cisco-spa" family, legacy layout (test data).
#
# Executed with an injected `target(target_id, plugin_id, std_dirs=True)` decorator and
# this directory as the working directory.  External programs: rsync.

from subprocess import check_call


@target('7.5.4', 'wazo-cisco-spa-7.5.4')
def build_7_5_4(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', '7.5.4/', path])


@target('7.5.5', 'wazo-cisco-spa-7.5.5')
def build_7_5_5(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', '7.5.5/', path])
