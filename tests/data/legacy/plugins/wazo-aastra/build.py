# Build script of the pytest-provd sample "wazo-aastra" family, legacy layout (test data).
#
# Executed with an injected `target(target_id, plugin_id, std_dirs=True)` decorator and
# this directory as the working directory.  External programs: rsync.

from subprocess import check_call


@target('3.3.1-SP4', 'wazo-aastra-3.3.1-SP4')
def build_3_3_1_sp4(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', '--exclude', '/templates/68*.tpl', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', '3.3.1-SP4/', path])


@target('4.2.0', 'wazo-aastra-4.2.0')
def build_4_2_0(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', '--exclude', '/templates/67*.tpl', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', '4.2.0/', path])
