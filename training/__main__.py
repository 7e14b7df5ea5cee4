"""``python -m training seg|clicks|gen train|eval|export ...``"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    tasks = parser.add_subparsers(dest="task", required=True)

    seg = tasks.add_parser("seg", help="background-removal model").add_subparsers(dest="cmd", required=True)
    from .seg import train as seg_train

    seg_train.add_train_args(seg.add_parser("train", help="train on a folder dataset"))
    try:
        from .seg import cli as seg_cli

        seg_cli.add_eval_args(seg.add_parser("eval", help="salient-object metrics of an ONNX model"))
        seg_cli.add_export_args(seg.add_parser("export", help="checkpoint -> ONNX with metadata"))
        from .seg import compare as seg_compare

        seg_compare.add_compare_args(seg.add_parser("compare", help="cut-outs of several models side by side"))
    except ImportError:
        pass
    clicks = tasks.add_parser("clicks", help="click-segmentation model").add_subparsers(dest="cmd", required=True)
    from .clicks import train as clicks_train

    clicks_train.add_commands(clicks)
    from .gen import cli as gen_cli

    gen_cli.add_gen_commands(tasks)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.task == "seg":
        if args.cmd == "train":
            from .seg.train import cmd_train

            return cmd_train(args)
        if args.cmd == "compare":
            from .seg.compare import cmd_compare

            return cmd_compare(args)
        from .seg import cli as seg_cli

        return seg_cli.run(args)
    if args.task == "clicks":
        from .clicks import train as clicks_train

        return clicks_train.run(args)
    if args.task == "gen":
        from .gen import cli as gen_cli

        return gen_cli.run(args)
    raise SystemExit(f"unknown task {args.task}")


if __name__ == "__main__":
    sys.exit(main())
