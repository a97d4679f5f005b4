"""``pkgs.db``: a plugin's firmware catalogue, parsed with line numbers and checked.

The format (fetchfw's) is INI-like with three kinds of sections::

    [pkg_D785-fw]                 a package provd offers for installation
    description: Firmware for Snom D785
    version: 10.1.215.13
    files: 785-fw                 [file_*] ids, space separated
    install: snom-fw              an [install_*] id, optionally followed by $ARGn values
    depends: base-fw              optional [pkg_*] ids

    [file_785-fw]                 one downloadable file
    url: https://.../snomD785-10.1.215.13-SIP-r.bin
    size: 49107200
    sha1sum: bfb5b1c6...          40 hex digits
    filename: ...                 optional; defaults to the url's last path component

    [install_snom-fw]             a recipe: a graph of steps
    a-b: cp $FILE1 firmware/      "<input node>-<output node>: <command> <args>"

Node ``a`` holds the package's downloaded files; every step reads one node and writes
another; nodes no step reads from are copied to the plugin's tftpboot.  ``$FILEn`` names the
n-th file of the package, ``$ARGn`` the n-th argument given after the install id.
"""

from __future__ import annotations

from pytest_provd.pkgsdb.check import check
from pytest_provd.pkgsdb.parse import (
    COMMANDS,
    PKG_KEYS,
    FileEntry,
    InstallRecipe,
    InstallStep,
    Option,
    Package,
    PkgsDb,
    Section,
    dump,
    load,
    parse,
)

__all__ = [
    "COMMANDS",
    "PKG_KEYS",
    "FileEntry",
    "InstallRecipe",
    "InstallStep",
    "Option",
    "Package",
    "PkgsDb",
    "Section",
    "check",
    "dump",
    "load",
    "parse",
]
