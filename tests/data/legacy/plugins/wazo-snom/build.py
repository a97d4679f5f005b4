# Build script of the pytest-provd sample "wazo-snom" family, legacy layout (test data):
# version directories are named after the firmware version, as before the rename of
# the plugin folders to Python identifiers.
#
# Executed with an injected `target(target_id, plugin_id, std_dirs=True)` decorator and
# this directory as the working directory.  External programs: rsync, sed.

import os.path
from subprocess import check_call


def _gen_model_templates(path, version, models):
    for model, fw_suffix in models:
        tpl_dir = os.path.join(path, 'templates', 'common')
        generated = [
            (
                f's/#FW_FILE#/snom{model}-{version}-SIP-{fw_suffix}.bin/;s/#CHAINED_FILE#//',
                'snom-model-firmware.xml.tpl.btpl',
                f'snom{model}-firmware.xml.tpl',
            ),
            (f's/#MODEL#/{model}/g', 'snom-model.htm.tpl.btpl', f'snom{model}.htm.tpl'),
            (f's/#MODEL#/{model}/g', 'snom-model.xml.tpl.btpl', f'snom{model}.xml.tpl'),
        ]
        for script, btpl, out_name in generated:
            with open(os.path.join(tpl_dir, out_name), 'wb') as out:
                check_call(['sed', script, 'common/templates/common/' + btpl], stdout=out)


@target('8.7.3.25', 'wazo-snom-8.7.3.25')
def build_8_7_3_25(path):
    check_call(
        [
            'rsync', '-rlp', '--exclude', '.*',
            '--exclude', '/templates/870.tpl',
            '--exclude', '*.btpl',
            'common/', path,
        ]
    )
    _gen_model_templates(path, '8.7.3.25', [('320', 'f'), ('370', 'f'), ('821', 'r')])
    check_call(['rsync', '-rlp', '--exclude', '.*', '8.7.3.25/', path])


@target('8.7.3.25.5', 'wazo-snom-8.7.3.25.5')
def build_8_7_3_25_5(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', '--exclude', '*.btpl', 'common/', path])
    _gen_model_templates(
        path, '8.7.3.25.5', [('320', 'f'), ('370', 'f'), ('821', 'r'), ('870', 'r')]
    )
    check_call(['rsync', '-rlp', '--exclude', '.*', '8.7.3.25.5/', path])
