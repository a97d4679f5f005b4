# Build script of the pytest-provd verdict sample "wazo_sccp" (test data, written for
# pytest-provd): an SCCP-only plugin whose entry.py and plugin-info name one model
# differently (S10G in MODELS, S10 in the capability).
#
# Executed by the plugin builder with an injected `target(target_id, plugin_id,
# std_dirs=True)` decorator and this directory as the working directory.
# External programs: rsync.

from subprocess import check_call


@target('1.0', 'wazo-acme-sccp-1.0')
def build_1_0(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v1/', path])
