# Build script of the pytest-provd sample "wazo_lab" family (test data): one small plugin per
# vendor emulated by emulators/, asking for the files the vendor's phones ask for.
#
# Executed by the plugin builder with an injected `target(target_id, plugin_id,
# std_dirs=True)` decorator and this directory as the working directory.
# External programs: rsync.

from subprocess import check_call


def _build(version_dir, path):
    check_call(["rsync", "-rlp", "--exclude", ".*", "common/", path])
    check_call(["rsync", "-rlp", "--exclude", ".*", version_dir + "/", path])


@target("fanvil", "wazo-fanvil-lab")
def build_fanvil(path):
    _build("fanvil", path)


@target("gigaset", "wazo-gigaset-lab")
def build_gigaset(path):
    _build("gigaset", path)


@target("gigaset_web", "wazo-gigaset-labweb")
def build_gigaset_web(path):
    _build("gigaset_web", path)


@target("alcatel", "wazo-alcatel-lab")
def build_alcatel(path):
    _build("alcatel", path)


@target("avaya", "wazo-avaya-lab")
def build_avaya(path):
    _build("avaya", path)


@target("patton", "wazo-patton-lab")
def build_patton(path):
    _build("patton", path)


@target("panasonic", "wazo-panasonic-lab")
def build_panasonic(path):
    _build("panasonic", path)


@target("technicolor", "wazo-technicolor-lab")
def build_technicolor(path):
    _build("technicolor", path)


@target("jitsi", "wazo-jitsi-lab")
def build_jitsi(path):
    _build("jitsi", path)


@target("cisco_sip", "wazo-cisco-sip-9.lab")
def build_cisco_sip(path):
    _build("cisco_sip", path)


@target("zenitel", "wazo-zenitel-lab")
def build_zenitel(path):
    _build("zenitel", path)
