"""The conversion report fits an 80-column terminal (rich and plain), shows everything in full
with ``wide``, and ``xnorinfer inspect --json`` prints the model description as JSON."""

import json
from pathlib import Path

import pytest

from xnorinfer import console
from xnorinfer.cli import main
from xnorinfer.onnx import ConversionReport, LayerRow

ALEXNET = Path(__file__).parents[1] / "fixtures" / "torch" / "xnornet_alexnet_kmap" / "model.onnx"
KMAP_CONV = "/features/features.4/kmap/Conv"
BLOCK = f"/features/features.4/Conv,{KMAP_CONV},/features/features.4/Mul"
BN = "/classifier/classifier.0/bn/BatchNormalization"
REASON = ("K map kept as float ops: the box filter's kernel does not match the conv's kernel, "
          "and this reason is long enough to need wrapping")
NOTE = ("sign(0): the input of binarizer '/features/features.4/Sign' comes from Relu "
        "'/features/features.3/Relu' and can be exactly 0, so it runs the exact kernels")


def long_report(float_layer_bytes: int = 1_024_000) -> ConversionReport:
    return ConversionReport(
        [LayerRow(BLOCK, "BinaryConv2d", "binary", "", 2_359_296, 73_984),
         LayerRow(BN, "ChannelAffine", "float", "", 2_048, 1_024),
         LayerRow("/features/features.6/Conv", "Conv2d", "float", REASON, float_layer_bytes,
                  float_layer_bytes)],
        onnx_param_bytes=3_385_344, xnor_param_bytes=1_099_008, notes=[NOTE])


def assert_fits_80_columns(text: str) -> None:
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert not too_wide, "\n".join(too_wide)


def test_text_fits_80_columns_with_names_cut_in_the_middle():
    text = long_report().to_text()
    assert_fits_80_columns(text)
    assert "/features/fe…4/kmap/Conv" in text and KMAP_CONV not in text
    unwrapped = " ".join(text.split())
    assert "[1]" in text and unwrapped.count(REASON) == 1  # listed once, below the table
    assert f"note: {NOTE}" in unwrapped


def test_huge_byte_counts_leave_shorter_names():
    text = long_report(float_layer_bytes=151_000_000).to_text()
    assert_fits_80_columns(text)
    assert "151,000,000" in text and "…" in text


def test_wide_text_has_full_names_and_reasons_in_the_table():
    text = long_report().to_text(wide=True)
    assert all(name in text for name in BLOCK.split(",") + [BN])
    assert any(REASON in line and "Conv2d" in line for line in text.splitlines())


@pytest.mark.parametrize("rich", [True, False], ids=["rich", "plain"])
def test_print_fits_80_columns(rich, capsys, monkeypatch):
    if not rich:
        monkeypatch.setattr(console, "_stdout", None)
    long_report().print()
    out = capsys.readouterr().out
    assert_fits_80_columns(out)
    assert "/features/fe…4/kmap/Conv" in out


@pytest.mark.parametrize("rich", [True, False], ids=["rich", "plain"])
def test_print_wide_shows_full_names(rich, capsys, monkeypatch):
    if not rich:
        monkeypatch.setattr(console, "_stdout", None)
    long_report().print(wide=True)
    out = capsys.readouterr().out
    assert all(name in out for name in BLOCK.split(",") + [BN])


def test_cli_convert_report_fits_80_columns_unless_wide(tmp_path, capsys):
    assert main(["convert", str(ALEXNET), "-o", str(tmp_path / "a.xnor")]) == 0
    out = capsys.readouterr().out
    assert_fits_80_columns(out)
    assert KMAP_CONV not in out
    assert main(["convert", str(ALEXNET), "-o", str(tmp_path / "a.xnor"), "--wide"]) == 0
    assert KMAP_CONV in capsys.readouterr().out


def test_cli_inspect_json(tmp_path, capsys):
    model = tmp_path / "a.xnor"
    assert main(["convert", str(ALEXNET), "-o", str(model)]) == 0
    capsys.readouterr()
    assert main(["inspect", str(model), "--json"]) == 0
    description = json.loads(capsys.readouterr().out)
    assert "BinaryConv2d" in [node["op"] for node in description["nodes"]]
    assert any(KMAP_CONV in node["source"] for node in description["nodes"])
    assert description["summary"]["file_bytes"] == model.stat().st_size
