"""The ``xnorinfer`` command: convert, run, inspect, info, demo, bench."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from xnorinfer import console


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except (ValueError, TypeError, RuntimeError, MemoryError, OSError) as error:
        # Every library error is one of these; show it without a traceback.
        console.error(f"{type(error).__name__}: {error}")
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xnorinfer", description="Fast CPU inference for binarized neural networks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("convert", help="convert an ONNX model to an xnorinfer model file")
    p.add_argument("model", help="ONNX model (.onnx); external data files are read from beside it")
    p.add_argument("-o", "--output", help="output file (default: the model's name with .xnor)")
    p.add_argument("--no-allow-float", dest="allow_float", action="store_false",
                   help="fail instead of keeping a binary-looking layer as a float op")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME=D0,D1,...",
                   help="fix a symbolic input dimension (repeatable)")
    p.add_argument("--sign-zero", choices=["auto", "exact", "plus_one"], default="auto",
                   help="binarizing an exact 0: 'exact' as ONNX's Sign(0) = 0 everywhere, "
                        "'plus_one' as +1 everywhere (faster kernels), 'auto' exact only where "
                        "a binarizer's input can be 0 (default)")
    p.add_argument("--first-layer", choices=["fp32", "int8", "bf16"], default="fp32",
                   help="precision of the float conv that reads the input (the stem): 'int8' "
                        "(uint8 x int8: AVX-512 VNNI, Arm SDOT) or 'bf16' (AVX-512 BF16) is faster and "
                        "not exact; the report prints its cost (default fp32, exact)")
    p.add_argument("--float-layers", choices=["fp32", "bf16"], default="fp32",
                   help="precision of the other float conv and dense layers (shortcut convs, "
                        "a classifier): 'bf16' (AVX-512 BF16) halves their weight bytes and is "
                        "not exact; the report prints its cost (default fp32, exact)")
    p.add_argument("--wide", action="store_true",
                   help="full ONNX node names and reasons in the report, however wide")
    p.add_argument("--verify", action="store_true",
                   help="compare the converted model with onnxruntime on random inputs "
                        "(exit status 1 when they differ, as an int8 first layer will)")
    p.set_defaults(handler=_convert)

    p = sub.add_parser("run", help="run a model file on .npy/.npz inputs")
    p.add_argument("model", help="xnorinfer model file (.xnor)")
    p.add_argument("--input", "-i", action="append", required=True, metavar="[NAME=]FILE",
                   help=".npy for one input (NAME= optional for single-input models) or .npz "
                        "holding every input by name")
    p.add_argument("--output", "-o", help="write outputs: .npy (one output) or .npz (all)")
    p.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    p.add_argument("--isa", choices=["scalar", "avx2", "avx512", "neon"], help="force a kernel path")
    p.set_defaults(handler=_run)

    p = sub.add_parser("batch", help="score a dataset into a Parquet folder, here or on Ray")
    p.add_argument("model", help="model: .xnor, or .onnx (converted once)")
    p.add_argument("input", help=".npy, .npz or .parquet file, or a folder of .npy, .parquet or "
                                 "image files")
    p.add_argument("output", help="output folder (Parquet: row_id, path, one column per output)")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="'local' (default): in this process, no Ray needed; 'ray': a pool of "
                        "Ray actors")
    p.add_argument("--address", help="Ray cluster address (default: a local Ray for the job)")
    p.add_argument("--actors", type=int, default=2, help="Ray actors (default 2)")
    p.add_argument("--threads-per-actor", type=int, default=1,
                   help="CPUs and threads per Ray actor (default 1)")
    p.add_argument("--threads", type=int, default=None,
                   help="local engine threads (default: all cores)")
    p.add_argument("--batch-size", type=int, default=64, help="rows per batch (default 64)")
    p.add_argument("--input-name", help="the array or column that feeds the model's input "
                                        "(default: the input's name)")
    p.add_argument("--image-size", default="224,224", metavar="H,W",
                   help="images are resized to this (default 224,224)")
    p.add_argument("--mean", default="0.485,0.456,0.406",
                   help="per-channel mean subtracted from images scaled to [0, 1]")
    p.add_argument("--std", default="0.229,0.224,0.225", help="per-channel std images are "
                                                              "divided by")
    p.add_argument("--grayscale", action="store_true", help="read images as one channel")
    p.set_defaults(handler=_batch)

    p = sub.add_parser("inspect", help="list a model file's layers, shapes and sizes")
    p.add_argument("model", help="xnorinfer model file (.xnor)")
    p.add_argument("--json", action="store_true", help="print the layers and totals as JSON")
    p.set_defaults(handler=_inspect)

    p = sub.add_parser("info", help="version, compiler, OpenMP and ISA paths")
    p.set_defaults(handler=_info)

    p = sub.add_parser("demo", help="convert and run the bundled digits BNN against onnxruntime")
    p.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    p.add_argument("--keep", metavar="DIR", help="keep the converted model in DIR")
    p.set_defaults(handler=_demo)

    p = sub.add_parser("bench", help="time a model against onnxruntime fp32 and OpenVINO, per "
                                     "layer and total")
    p.add_argument("model", nargs="?", default=None,
                   help="ONNX model, or a built-in network: bireal18, xnor_alexnet (default: the "
                        "bundled digits BNN)")
    p.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    p.add_argument("--batch", type=int, default=1, help="batch size of the timed runs (default 1)")
    p.add_argument("--repeats", type=int, default=10,
                   help="interleaved timing rounds and profiled runs (default 10)")
    p.add_argument("--input", "-i", action="append", default=[], metavar="[NAME=]FILE",
                   help="inputs of the agreement check, as for 'run' (default: random N(0,1))")
    p.add_argument("--png", help="write a bar chart of latency and speedup (needs matplotlib)")
    p.add_argument("--no-openvino", dest="openvino", action="store_false",
                   help="leave OpenVINO out (default: time it too when openvino is installed)")
    p.set_defaults(handler=_bench)
    return parser


def _parse_input_shapes(items: list[str]) -> dict[str, list[int]]:
    shapes = {}
    for item in items:
        name, sep, dims = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            shapes[name] = [int(d) for d in dims.split(",")]
        except ValueError:
            raise ValueError(f"--input-shape expects NAME=D0,D1,..., got '{item}'") from None
    return shapes


def _convert(args: argparse.Namespace) -> int:
    from xnorinfer.onnx import convert

    output = Path(args.output) if args.output else Path(args.model).with_suffix(".xnor")
    result = convert(args.model, output, allow_float=args.allow_float,
                     input_shapes=_parse_input_shapes(args.input_shape) or None,
                     sign_zero=args.sign_zero, first_layer=args.first_layer,
                     float_layers=args.float_layers)
    result.report.print(wide=args.wide)
    console.info(f"wrote {output} ({output.stat().st_size:,} bytes)")
    if not args.verify:
        return 0
    from xnorinfer.onnx.verify import verify

    verification = verify(args.model, result.graph)
    verification.print()
    return 0 if verification.ok or verification.skipped else 1


def _load_inputs(specs: list[str], input_names: list[str]) -> dict[str, np.ndarray]:
    feed: dict[str, np.ndarray] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = "", spec
        if path.endswith(".npz"):
            with np.load(path, allow_pickle=False) as archive:
                feed.update({key: archive[key] for key in archive.files})
            continue
        if not name:
            if len(input_names) != 1:
                raise ValueError(f"the model has inputs {input_names}: name each, as NAME=FILE.npy")
            name = input_names[0]
        feed[name] = np.load(path, allow_pickle=False)
    return feed


def _run(args: argparse.Namespace) -> int:
    from xnorinfer.session import InferenceSession

    sess = InferenceSession(args.model, num_threads=args.threads, isa=args.isa)
    feed = _load_inputs(args.input, [i.name for i in sess.get_inputs()])
    names = [o.name for o in sess.get_outputs()]
    outputs = sess.run(None, feed)
    if args.output:
        if args.output.endswith(".npz"):
            np.savez(args.output, **dict(zip(names, outputs)))
        elif len(outputs) == 1:
            np.save(args.output, outputs[0])
        else:
            raise ValueError(f"the model has {len(outputs)} outputs: write them to a .npz file")
        console.info(f"wrote {args.output}")
    rows = [[name, str(list(out.shape)), f"{out.min():.6g}", f"{out.max():.6g}"]
            for name, out in zip(names, outputs)]
    console.table(f"outputs ({sess.isa}, {sess.num_threads} threads)",
                  ["output", "shape", "min", "max"], rows)
    return 0


def _batch(args: argparse.Namespace) -> int:
    from xnorinfer import batch
    from xnorinfer.ray import Predictor, model_bytes
    from xnorinfer.session import InferenceSession

    if min(args.actors, args.threads_per_actor, args.batch_size) < 1:
        raise ValueError("--actors, --threads-per-actor and --batch-size must be positive")
    model = model_bytes(args.model)
    probe = InferenceSession(model, num_threads=1)
    if len(probe.get_inputs()) != 1:
        raise ValueError(f"batch scores models with one input; this one has "
                         f"{[arg.name for arg in probe.get_inputs()]}")
    column = args.input_name or probe.get_inputs()[0].name
    images = batch.ImageOptions(tuple(_ints(args.image_size, "--image-size")),
                                _floats(args.mean), _floats(args.std), args.grayscale)
    rows = batch.read_rows(Path(args.input), column, images)
    outputs = [arg.name for arg in probe.get_outputs()]
    if args.engine == "local":
        predictor = Predictor(model, input_names=[column], num_threads=args.threads)
        scored = batch.output_batches(rows, predictor, args.batch_size)
    else:
        scored = batch.ray_batches(rows, model, column, batch_size=args.batch_size,
                                   actors=args.actors, threads_per_actor=args.threads_per_actor,
                                   address=args.address, outputs=outputs)
    written = batch.write_parquet(scored, Path(args.output), outputs)
    console.info(f"wrote {written} rows to {args.output} ({args.engine} engine)")
    return 0


def _ints(text: str, option: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"{option} expects H,W, got '{text}'") from None
    if len(values) != 2 or min(values) < 1:
        raise ValueError(f"{option} expects two positive ints H,W, got '{text}'")
    return values


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"expected comma-separated numbers, got '{text}'") from None


def _inspect(args: argparse.Namespace) -> int:
    from xnorinfer import model_file, model_inspect

    graph = model_file.load(args.model)
    summary = model_inspect.summary(graph, Path(args.model).stat().st_size)
    if args.json:
        # Plain print: rich would wrap long lines inside the JSON strings.
        print(json.dumps({"nodes": model_inspect.describe(graph), "summary": summary}, indent=2))
        return 0
    rows = [[r["name"], r["op"], r["kind"],
             "; ".join(str(s) for s in (r["output_shapes"] or [])), f"{r['param_bytes']:,}",
             r["source"] or ""] for r in model_inspect.describe(graph)]
    console.table(f"{args.model}", ["node", "op", "kind", "output shape (NHWC)", "param bytes",
                                    "ONNX source"], rows)
    console.table("summary", ["", ""], [[k, str(v)] for k, v in summary.items()])
    return 0


def _info(args: argparse.Namespace) -> int:
    from xnorinfer.build import build_info

    console.table("xnorinfer", ["", ""], [[k, str(v)] for k, v in build_info().items()])
    return 0


def _demo(args: argparse.Namespace) -> int:
    from xnorinfer.demo import run_demo

    return run_demo(num_threads=args.threads, keep_dir=args.keep)


def _bench(args: argparse.Namespace) -> int:
    from xnorinfer.bench.command import run_bench

    feed = None
    if args.input:
        import onnx

        if args.model is None or not Path(args.model).is_file():
            raise ValueError("--input needs an ONNX model file")
        graph = onnx.load(args.model, load_external_data=False).graph
        initializers = {t.name for t in graph.initializer}
        feed = _load_inputs(args.input, [i.name for i in graph.input if i.name not in initializers])
    return run_bench(args.model, num_threads=args.threads, batch=args.batch, repeats=args.repeats,
                     png=args.png, check_feed=feed, openvino=args.openvino)


if __name__ == "__main__":
    sys.exit(main())
