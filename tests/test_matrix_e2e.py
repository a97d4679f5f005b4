"""``<model>::matrix`` end to end, on a sample family of our own (``tests/data/matrix``) whose
template is well-formed under the sample config but broken in its backup-proxy branch and in
its branch for a park key without a label: the default items pass, the matrix item fails
naming the config and the template line, and the summary gives the branch coverage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SAMPLE = Path(__file__).parent / "data" / "matrix" / "plugins" / "wazo_matrixlab"
PLUGIN = "wazo-acme-lab-1.0"
TEMPLATE = "plugins/wazo_matrixlab/common/templates/base.tpl"


@pytest.fixture
def tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    shutil.copytree(SAMPLE, pytester.path / "plugins" / "wazo_matrixlab")
    return pytester.path


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # A subprocess: the plugin is loaded and configured (see tests/conftest.py).
    return pytester.runpytest_subprocess("--provd-plugin", PLUGIN, "-p", "no:randomly", *args)


def test_default_items_pass_and_the_matrix_names_config_and_line(
    pytester: pytest.Pytester, tree: Path
) -> None:
    result = run(pytester, "-k", "(configure or wellformed or matrix) and not fetched", "-rA")
    result.assert_outcomes(passed=4, failed=2)
    for model in ("M2", "M6"):
        for item in ("configure", "wellformed"):
            result.stdout.fnmatch_lines([f"PASSED {PLUGIN}::{model}::{item}*"])
    result.stdout.fnmatch_lines(
        [
            f"{PLUGIN}::M2::matrix: 2 problem(s)",
            # The backup-proxy branch leaves <backup> open: the parser stops at </line>.
            f"  {TEMPLATE}:9: config backup: {PLUGIN}/var/tftpboot/acme-*.xml:6: not "
            "well-formed XML: Opening and ending tag mismatch: backup line 5 and line*",
            # The park key without a label leaves <park> open; funckeys=6 has one too.
            f"  {TEMPLATE}:22: config funckeys=park: *: Opening and ending tag mismatch: park *"
            "(also under funckeys=6)",
        ]
    )
    # M6 has 12 keys: funckeys=12 shows the park defect too (which config is first depends on
    # how the variants are packed).
    result.stdout.fnmatch_lines(
        [f"{PLUGIN}::M6::matrix: 2 problem(s)", f"  {TEMPLATE}:9: config backup: *"]
    )
    output = result.stdout.str()
    assert any(
        f"{TEMPLATE}:22: config {first}: " in output and f"also under {second})" in output
        for first, second in (("funckeys=12", "funckeys=park"), ("funckeys=park", "funckeys=12"))
    )
    # The item's section says which configs were rendered and what none of them reached.
    result.stdout.fnmatch_lines(
        [
            "M6: the default config and 7 matrix configs:",
            "  backup+outbound+vlan+syslog+dns+pickup-group+name=long+tls+srtp=required+"
            "dtmf=SIP-INFO+lines=6+funckeys=12+locale=de_DE+tz=Asia/Tokyo",
            "*",
            "branches 6/7 in 1 rendered template(s)",
            "not reached by any config:",
            f"  {TEMPLATE}:23 if sip_transport == 'sctp'",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "template branches rendered by the config matrix:",
            f"{PLUGIN}: branches 6/7 in 1 rendered template(s)",
        ]
    )
    assert "not reached:" not in result.stdout.str()  # listed in the summary with -v only


def test_coverage_joins_models_across_xdist_workers_and_lists_with_v(
    pytester: pytest.Pytester, tree: Path
) -> None:
    result = run(pytester, "-k", "matrix", "-n", "2", "-v")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            f"{PLUGIN}: branches 6/7 in 1 rendered template(s)",
            f"    not reached: {TEMPLATE}:23 if sip_transport == 'sctp'",
        ]
    )


def test_a_fixed_template_passes_the_matrix_with_full_coverage(
    pytester: pytest.Pytester, tree: Path
) -> None:
    _fix(tree / TEMPLATE)
    template = tree / TEMPLATE
    template.write_text(template.read_text().replace("== 'sctp'", "== 'tcp'"))
    result = run(pytester, "-k", "matrix")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"{PLUGIN}: branches 7/7 in 1 rendered template(s)"])


def test_a_defect_the_default_config_has_is_left_to_the_default_items(
    pytester: pytest.Pytester, tree: Path
) -> None:
    _fix(tree / TEMPLATE)
    template = tree / TEMPLATE
    # Broken for every config: wellformed says so, the matrix does not say it again.
    template.write_text(template.read_text().replace("</keys>", "</key>"))
    result = run(pytester, "-k", "M2 and (wellformed or matrix) and not fetched")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([f"FAILED {PLUGIN}::M2::wellformed*"])


def _fix(template: Path) -> None:
    """Close the elements the backup-proxy and unlabelled park branches leave open."""
    text = template.read_text()
    for opened in ("ip=\"{{ line['backup_proxy_ip'] }}\">", "slot=\"{{ key['value'] }}\">"):
        assert text.count(opened) == 1
        text = text.replace(opened, opened[:-1] + "/>")
    template.write_text(text)
