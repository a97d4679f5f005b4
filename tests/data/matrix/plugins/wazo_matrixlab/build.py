# Build script of the pytest-provd config matrix sample "wazo_matrixlab" (test data, written
# for pytest-provd).
#
# Executed by the plugin builder with an injected `target(target_id, plugin_id,
# std_dirs=True)` decorator and this directory as the working directory.
# External programs: rsync.

from subprocess import check_call


@target('1.0', 'wazo-acme-lab-1.0')
def build_1_0(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v1/', path])
