"""The dynamic tiers of the generated suite (load, configure, well-formed, hostile, golden)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_tree import make_family


@pytest.fixture
def tiny(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    make_family(pytester.path / "plugins")
    return pytester.path / "plugins"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # A subprocess: these runs load the plugin in provd (see tests/conftest.py).
    return pytester.runpytest_subprocess("--provd-plugin", "acme-phone-1.0", *args)


def run_static(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # Collection and static checks only: in-process is enough, and faster.
    return pytester.runpytest("--provd-plugin", "acme-phone-1.0", *args)


def test_ids_and_tiers(pytester: pytest.Pytester, tiny: Path) -> None:
    result = run_static(pytester, "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "acme-phone-1.0::build",
            "acme-phone-1.0::models[[]M1[]]",
            "acme-phone-1.0::load",
            "acme-phone-1.0::hostile-values",
            "acme-phone-1.0::M1::configure",
            "acme-phone-1.0::M1::wellformed",
        ]
    )
    static = run_static(pytester, "-m", "provd_static", "-q")
    static.assert_outcomes(passed=7)


def test_unescaped_template_caught_by_hostile_values(pytester: pytest.Pytester, tiny: Path) -> None:
    btpl = tiny / "acme_phone" / "common" / "templates" / "model.tpl.btpl"
    btpl.write_text(btpl.read_text().replace("line.display_name|e", "line.display_name"))
    result = run(pytester, "-k", "hostile or (wellformed and not fetched)")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        ["*hostile-values: 1 problem(s)", "*not well-formed XML*display_name=*"]
    )


def test_plugin_that_does_not_load_names_entry_line(pytester: pytest.Pytester, tiny: Path) -> None:
    entry = tiny / "acme_phone" / "v1_0" / "entry.py"
    entry.write_text(
        entry.read_text().replace("MODELS = ['M1']", "MODELS = ['M1']\nraise ValueError('nope')")
    )
    result = run(pytester, "-k", "load and not hostile and not M1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["  *plugins/acme_phone/v1_0/entry.py:8: load: ValueError: nope"])


def test_template_missing_a_user_fails_configure(pytester: pytest.Pytester, tiny: Path) -> None:
    btpl = tiny / "acme_phone" / "common" / "templates" / "model.tpl.btpl"
    btpl.write_text(btpl.read_text().replace("sip_lines.items()", "sip_lines.items() if n == '1'"))
    result = run(pytester, "-k", "configure")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*SIP user bob1002 pushed for M1 appears in none of the generated files*"]
    )


def test_golden_cycle(pytester: pytest.Pytester, tiny: Path) -> None:
    first = run(pytester, "-k", "golden", "--provd-update-golden")
    first.assert_outcomes(passed=1)
    golden = pytester.path / "tests" / "golden" / "acme-phone-1.0" / "M1"
    (written,) = list(golden.iterdir())
    assert "alice1001" in written.read_text()
    run(pytester, "-k", "golden").assert_outcomes(passed=1)
    btpl = tiny / "acme_phone" / "common" / "templates" / "model.tpl.btpl"
    btpl.write_text(btpl.read_text().replace('n="{{ n }}"', 'index="{{ n }}"'))
    changed = run(pytester, "-k", "golden")
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(
        ["*differs from the golden file*", '*-*<line n="1"*', "*--provd-update-golden*"]
    )


def test_check_urls_downloads_and_compares(pytester: pytest.Pytester, tiny: Path) -> None:
    import hashlib
    import http.server
    import threading

    blob = b"firmware bytes" * 100

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = blob if self.path == "/good.bin" else b"changed!" * 10
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        sha1 = hashlib.sha1(blob).hexdigest()
        db = (
            "[pkg_fw]\ndescription: fw\nversion: 1.0\nfiles: good bad\ninstall: fw\n\n"
            "[install_fw]\na-b: cp $FILE1 $FILE2 firmware/\n\n"
            f"[file_good]\nurl: {base}/good.bin\nsize: {len(blob)}\nsha1sum: {sha1}\n\n"
            f"[file_bad]\nurl: {base}/bad.bin\nsize: {len(blob)}\nsha1sum: {sha1}\n"
        )
        (tiny / "acme_phone" / "v1_0" / "pkgs").mkdir()
        (tiny / "acme_phone" / "v1_0" / "pkgs" / "pkgs.db").write_text(db)
        result = run(pytester, "-k", "firmware-urls", "--provd-check-urls")
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            ["*pkgs.db:15 [[]file_bad[]]: *bad.bin: 80 bytes, pkgs.db says 1400"]
        )
        result.stdout.no_fnmatch_line("*good.bin*")
    finally:
        server.shutdown()
        server.server_close()


def test_verbose_output_keeps_the_ids(pytester: pytest.Pytester, tiny: Path) -> None:
    # pytest -v would print "acme-phone-1::0::build" for a domain that ends the node id
    result = run_static(pytester, "-m", "provd_static", "-v")
    result.stdout.fnmatch_lines(["acme-phone-1.0::build PASSED*"])
    assert "acme-phone-1::0" not in result.stdout.str()
