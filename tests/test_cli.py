import json
import subprocess
import sys

import pytest
from conftest import CONFIGS, ROOT

from era_deap.cli import main

ARCH = ["arch", "--block", "basic", "--sections", "0,18,18,18", "--filters", "8", "--filter-update", "2",
        "--group-size", "8"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_space_json_for_both_space_files(capsys):
    code, out, _ = run(capsys, "space", str(CONFIGS / "space.yaml"), "--json")
    assert code == 0 and json.loads(out) == {"configurations": 13296960, "unique_networks": 10637568}
    code, out, _ = run(capsys, "space", str(CONFIGS / "space-thesis-text.yaml"), "--json")
    assert json.loads(out) == {"configurations": 13296960, "unique_networks": 8864640}


def test_space_without_argument_uses_the_default_space(capsys):
    code, out, _ = run(capsys, "space")
    assert code == 0 and "10,637,568" in out


def test_arch_reports_depth_and_params(capsys):
    code, out, _ = run(capsys, *ARCH, "--json")
    info = json.loads(out)
    assert code == 0 and info["depth"] == 110 and info["params"] == 1729490
    assert info["key"] == "basic-0.18.18.18-f8-u2-g8"
    code, out, _ = run(capsys, *ARCH[:-1], "32", "--input", "1x8x8", "--classes", "10", "--json")
    assert json.loads(out)["genome"]["group_size"] == 8  # canonical: 32 clamps to 8 filters


@pytest.mark.parametrize("argv, message", [
    (["--block", "wide"], r"argument --block: expected one of basic, bottleneck, got 'wide'"),
    (["--filters", "128"], r"argument --filters: expected one of 2, 4, 8, 16, 32, 64, got 128"),
    (["--group-size", "3"], r"argument --group-size: expected one of 1, 2, 4, 8, 32, got 3"),
    (["--filter-update", "3"], r"argument --filter-update: expected one of 1, 2, got 3"),
    (["--sections", "0,18,18"], r"argument --sections: expected four comma-separated integers"),
    (["--sections", "0,0,18,18"], r"argument --sections \(section 2\): expected one of 1..18, got 0"),
    (["--input", "32x32"], r"argument --input: expected CxHxW such as 3x32x32, got '32x32'"),
    (["--classes", "0"], r"argument --classes: expected a positive integer, got '0'"),
])
def test_invalid_flags_exit_2_with_one_line(capsys, argv, message):
    args = list(ARCH)
    if argv[0] in args:
        i = args.index(argv[0])
        args[i + 1] = argv[1]
    else:
        args += argv
    with pytest.raises(SystemExit) as exc:
        main(args)
    _, err = capsys.readouterr()
    assert exc.value.code == 2
    assert err.count("\n") == 1 and err.startswith("era arch: error: ")
    import re
    assert re.search(message, err), err


def test_bad_space_file_is_a_one_line_error(capsys, tmp_path):
    bad = tmp_path / "s.yaml"
    bad.write_text("genes: [1, 2\n")
    code, _, err = run(capsys, "space", str(bad))
    assert code == 2 and "s.yaml:2:1: malformed YAML" in err and err.count("\n") == 1


def test_console_script_runs():
    exe = ROOT / ".venv" / "bin" / "era"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "era_deap.cli"]
    out = subprocess.run([*cmd, "space", "--json"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["unique_networks"] == 10637568
