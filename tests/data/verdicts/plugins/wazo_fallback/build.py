# Build script of the pytest-provd verdict sample "wazo_fallback" (test data, written for
# pytest-provd): per-model templates, some of which the build leaves out, so that provd
# configures those models with base.tpl.
#
# Executed by the plugin builder with an injected `target(target_id, plugin_id,
# std_dirs=True)` decorator and this directory as the working directory.
# External programs: rsync.

from subprocess import check_call


@target('1.0', 'wazo-acme-fallback-1.0')
def build_1_0(path):
    # F1.tpl and F2.tpl stay out: F1's output is base.tpl's, F2's is not.
    check_call(
        [
            'rsync', '-rlp', '--exclude', '.*',
            '--include', '/templates/base.tpl',
            '--include', '/templates/F[456].tpl',
            '--exclude', '/templates/*.tpl',
            'common/', path,
        ]
    )
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v1/', path])
