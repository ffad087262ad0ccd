"""The CLI end to end: simulators on real ptys driven as subprocesses, like a person would."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from devices import cli

PROTOCOLS = ["mt-sics", "toledo8217", "ad", "cas"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_read_scale_json_from_simulator(protocol, cli_sim, run_cli):
    sim = cli_sim("sim-scale", "--protocol", protocol, "--weight", "1.234")
    done = run_cli("read-scale", "--port", sim.path, "--protocol", protocol, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "weight": "1.234",
        "unit": "kg",
        "stable": True,
        "net": False,
    }


def test_read_scale_text_and_control_channel(cli_sim, run_cli):
    sim = cli_sim("sim-scale", "--protocol", "mt-sics")
    assert "weight=2.500" in sim.control("weight 2.5")
    done = run_cli("read-scale", "--port", sim.path, "--protocol", "mt-sics")
    assert (done.returncode, done.stdout) == (0, "2.500 kg\n")


@pytest.mark.parametrize(("protocol", "condition"), [("mt-sics", "overload"), ("cas", "underload")])
def test_error_reply_exits_non_zero(protocol, condition, cli_sim, run_cli):
    sim = cli_sim("sim-scale", "--protocol", protocol)
    sim.control(condition)
    done = run_cli("read-scale", "--port", sim.path, "--protocol", protocol, "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"] == condition
    assert done.stderr.startswith(f"error: {condition}:")


def test_unstable_scale_reports_motion(cli_sim, run_cli):
    sim = cli_sim("sim-scale", "--protocol", "toledo8217", "--unstable")
    done = run_cli("read-scale", "--port", sim.path, "--protocol", "toledo8217", "--timeout", "0.5")
    assert done.returncode == 1 and "motion" in done.stderr and "wait" in done.stderr


def test_immediate_accepts_unstable(cli_sim, run_cli):
    sim = cli_sim("sim-scale", "--protocol", "ad", "--weight", "0.5", "--unstable")
    done = run_cli("read-scale", "--port", sim.path, "--protocol", "ad", "--immediate", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["stable"] is False


def test_follow_prints_one_json_line_per_reading(cli_sim, run_cli):
    sim = cli_sim("sim-scale", "--protocol", "cas", "--weight", "0.25", "--interval", "0.02")
    done = run_cli(
        "read-scale", "--port", sim.path, "--protocol", "cas", "--follow", "--count", "3", "--json"
    )
    assert done.returncode == 0
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["weight"] for line in lines] == ["0.250"] * 3


def test_follow_survives_a_simulator_restart(cli_sim, tmp_path):
    link = str(tmp_path / "ttyScale")
    first = cli_sim("sim-scale", "--protocol", "mt-sics", "--weight", "1", "--link", link)
    follower = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devices",
            "read-scale",
            "--port",
            link,
            "--protocol",
            "mt-sics",
            "--follow",
            "--json",
            "--interval",
            "0.05",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert json.loads(follower.stdout.readline())["weight"] == "1.000"
        first.kill()
        while json.loads(follower.stdout.readline()).get("error") != "disconnected":
            pass
        cli_sim("sim-scale", "--protocol", "mt-sics", "--weight", "2", "--link", link)
        while json.loads(follower.stdout.readline()).get("weight") != "2.000":
            pass
    finally:
        follower.terminate()
        assert follower.wait(10) == 0  # SIGTERM is a normal way to stop --follow
        follower.stdout.close()
        follower.stderr.close()


def test_missing_port_is_actionable(capsys):
    code = cli.main(
        ["read-scale", "--port", "/dev/ttyNOPE9", "--protocol", "mt-sics", "--timeout", "0.3"]
    )
    err = capsys.readouterr().err
    assert code == 3
    assert "cannot open /dev/ttyNOPE9" in err and "dialout" in err


def test_scanner_sim_and_listen(cli_sim, tmp_path):
    sim = cli_sim("sim-scanner")
    listener = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devices",
            "listen-scanner",
            "--port",
            sim.path,
            "--count",
            "2",
            "--json",
            "--interpret",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert "listening" in listener.stderr.readline()
        sim.control("scan ]C101095060001343521726123110LOT9")
        sim.control("scan 2100123012343")
        out, _ = listener.communicate(timeout=10)
    finally:
        if listener.poll() is None:
            listener.kill()
            listener.wait()
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["symbology"] == "]C1" and first["symbology_name"] == "GS1-128"
    assert first["barcode"]["gtin14"] == "09506000134352"
    assert first["barcode"]["expiry"] == "2026-12-31" and first["barcode"]["lot"] == "LOT9"
    assert second["code"] == "2100123012343"
    assert second["barcode"]["kind"] == "variable_measure"
    assert listener.returncode == 0


def test_scanner_codes_file_and_text_output(cli_sim, run_cli, tmp_path):
    codes = tmp_path / "codes.txt"
    codes.write_text("6901234567892\n96385074\n0109506000134352\\x1d10AB\n")
    sim = cli_sim("sim-scanner", "--codes", str(codes), "--interval", "0.05", "--suffix", "crlf")
    done = run_cli("listen-scanner", "--port", sim.path, "--suffix", "crlf", "--count", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3
    assert set(lines) <= {"6901234567892", "96385074", "0109506000134352<GS>10AB"}


# parse-barcode needs no port: run it in-process (one subprocess run is in the pty tests)


@pytest.mark.parametrize(
    ("code", "expect"),
    [
        ("6901234567892", "gtin14: 06901234567892"),
        ("2100123012343", "weight: 1.234"),
        ("(01)09506000134352(17)261231", "expiry: 2026-12-31"),
        ("0109506000134352\\x1d10LOT", "lot: LOT"),
        ("0109506000134352<GS>10LOT", "code: 0109506000134352<GS>10LOT"),
    ],
)
def test_parse_barcode_text(code, expect, capsys):
    assert cli.main(["parse-barcode", code]) == 0
    assert expect in capsys.readouterr().out.splitlines()


def test_parse_barcode_json_and_failure(capsys):
    assert cli.main(["parse-barcode", "6901234567891", "--json"]) == 1
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert result["kind"] == "invalid" and "校验位" in result["reason_zh"]
    assert "Check digit wrong" in err


def test_parse_barcode_custom_pattern(capsys):
    assert (
        cli.main(["parse-barcode", "250012301995", "--pattern", "25PPPPP{NNNDD}:price", "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["price"] == "19.95"
    assert cli.main(["parse-barcode", "1", "--pattern", "25{NN}"]) == 2
    assert "PLU" in capsys.readouterr().err


def test_parse_barcode_as_a_subprocess(run_cli):
    done = run_cli("parse-barcode", "96385074", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["gtin"] == "96385074"


@pytest.mark.parametrize(
    "command",
    [[], ["read-scale"], ["listen-scanner"], ["sim-scale"], ["sim-scanner"], ["parse-barcode"]],
)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["read-scale", "--port", "x", "--protocol", "nope"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_register_adds_a_devices_group_to_another_cli():
    parser = argparse.ArgumentParser(prog="kucun")
    sub = parser.add_subparsers(dest="command", required=True)
    cli.register(sub)
    args = parser.parse_args(["devices", "parse-barcode", "96385074", "--json"])
    assert args.func is cli.cmd_parse_barcode and args.code == "96385074"
    args = parser.parse_args(["devices", "read-scale", "--port", "loop://", "--protocol", "ad"])
    assert args.func is cli.cmd_read_scale


def test_main_accepts_a_leading_devices_word(capsys):
    assert cli.main(["devices", "parse-barcode", "96385074"]) == 0
    assert "gtin: 96385074" in capsys.readouterr().out


def test_devices_is_standalone():
    code = (
        "import sys, devices.cli, devices.scales.session, devices.scanner.reader, "
        "devices.barcodes, devices.sim; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'node', 'hub', 'kucun', 'protocol', 'ledger'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_public_api_names_resolve_lazily():
    code = (
        "import sys, devices; assert 'biip' not in sys.modules; "
        "missing = [n for n in devices.__all__ if getattr(devices, n, None) is None]; "
        "print(missing)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_simulator_runs_in_the_background_without_stdin(run_cli):
    """`kucun devices sim-scale … &` has /dev/null as stdin: it must still serve."""
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devices",
            "sim-scale",
            "--protocol",
            "mt-sics",
            "--weight",
            "2.500",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert sim.stdout is not None
        pty = sim.stdout.readline().strip()
        result = run_cli("read-scale", "--port", pty, "--protocol", "mt-sics", "--json")
        assert result.returncode == 0, result.stderr
        assert '"weight": "2.500"' in result.stdout
    finally:
        sim.kill()
        sim.wait()
        for stream in (sim.stdout, sim.stderr):
            if stream:
                stream.close()
