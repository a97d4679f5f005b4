# Build script of the pytest-provd sample "wazo_aastra" family (test data).
#
# Executed by the plugin builder with an injected `target(target_id, plugin_id,
# std_dirs=True)` decorator and this directory as the working directory.
# External programs: rsync.

from subprocess import check_call


@target('4.3.0', 'wazo-aastra-4.3.0')
def build_4_3_0(path):
    check_call(
        ['rsync', '-rlp', '--exclude', '.*', '--exclude', '/templates/6869i.tpl', 'common/', path]
    )
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v4_3_0/', path])


@target('6.4.0-SP2', 'wazo-aastra-6.4.0-SP2')
def build_6_4_0_sp2(path):
    check_call(
        ['rsync', '-rlp', '--exclude', '.*', '--exclude', '/templates/6863i.tpl', 'common/', path]
    )
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v6_4_0_SP2/', path])
