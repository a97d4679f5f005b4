# Build script of the pytest-provd sample "wazo_snom" family (test data).
#
# Executed by the plugin builder with an injected `target(target_id, plugin_id,
# std_dirs=True)` decorator and this directory as the working directory.
# External programs: rsync, sed.

from pathlib import Path
from subprocess import check_call

BTPL_DIR = 'common/templates/common'


def _sync_common(path, template_patterns):
    """Copy common/ keeping base.tpl and the given per-model templates only."""
    cmd = ['rsync', '-rlp', '--exclude', '.*', '--include', '/templates/base.tpl']
    for pattern in template_patterns:
        cmd += ['--include', f'/templates/{pattern}']
    cmd += ['--exclude', '/templates/*.tpl', '--exclude', '*.btpl', 'common/', path]
    check_call(cmd)


def _sed(script, btpl, destination):
    with open(destination, 'wb') as out:
        check_call(['sed', script, f'{BTPL_DIR}/{btpl}'], stdout=out)


def _gen_model_templates(path, version, models):
    """models: [(model, image extension, chained through a ramdisk image)]"""
    out_dir = Path(path) / 'templates' / 'common'
    for model, ext, ramdisk in models:
        image = f'snom{model}-{version}-SIP-r.{ext}'
        if ramdisk:
            fw_script = (
                f's/#FW_FILE#/snom{model}-ramdisk-chained-update-r.bin/;'
                f's/#CHAINED_FILE#/{image}/'
            )
        else:
            fw_script = f's/#FW_FILE#/{image}/;s/#CHAINED_FILE#//'
        _sed(fw_script, 'snom-model-firmware.xml.tpl.btpl', out_dir / f'snom{model}-firmware.xml.tpl')
        _sed(f's/#MODEL#/{model}/g', 'snom-model.htm.tpl.btpl', out_dir / f'snom{model}.htm.tpl')
        _sed(f's/#MODEL#/{model}/g', 'snom-model.xml.tpl.btpl', out_dir / f'snom{model}.xml.tpl')


@target('10.1.200.1', 'wazo-snom-10.1.200.1')
def build_10_1_200_1(path):
    _sync_common(path, ['715.tpl', 'D7*5.tpl'])
    _gen_model_templates(
        path,
        '10.1.200.1',
        [('715', 'bin', False), ('D735', 'bin', False), ('D785', 'bin', False)],
    )
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v10_1_200_1/', path])


@target('10.1.215.13', 'wazo-snom-10.1.215.13')
def build_10_1_215_13(path):
    _sync_common(path, ['D7*5.tpl', 'D8*.tpl'])
    _gen_model_templates(
        path,
        '10.1.215.13',
        [('D735', 'bin', True), ('D785', 'bin', True), ('D865', 'swu', False)],
    )
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v10_1_215_13/', path])
