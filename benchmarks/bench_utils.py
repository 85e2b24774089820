"""Shared helpers of the benchmark scripts: machine report and tables.

Each benchmark is one script per measured claim; they all print the machine
(core count, load, backend, library versions) and the exact command that
produced the figures, via `print_header`.
"""

import os
import platform
import shlex
import statistics
import sys

BACKENDS = ("jax", "tensorflow", "torch")


def set_backend(argv=None, default="jax"):
    """Sets `KERAS_BACKEND` from a `--backend` flag before Keras is imported.

    Scripts call this at the top, before `import keras`, so that
    `--backend torch` takes effect. Returns the backend name.
    """
    argv = sys.argv[1:] if argv is None else argv
    backend = os.environ.get("KERAS_BACKEND", default)
    for i, arg in enumerate(argv):
        if arg == "--backend" and i + 1 < len(argv):
            backend = argv[i + 1]
        elif arg.startswith("--backend="):
            backend = arg.split("=", 1)[1]
    if backend not in BACKENDS + ("all",):
        raise SystemExit(
            f"--backend must be one of {BACKENDS + ('all',)}, got {backend!r}."
        )
    if backend != "all":
        os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return backend


def _version(name):
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_lines(backend=None):
    """Lines describing the machine and software, for a benchmark header."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    versions = ", ".join(
        f"{name} {_version(name)}"
        for name in ("keras", "tensorflow", "tensorflow-text", "jax", "torch")
    )
    lines = [
        f"machine: {platform.machine()} {platform.system()}, "
        f"nproc {os.cpu_count()}, load average "
        f"{' '.join(f'{x:.2f}' if isinstance(x, float) else x for x in load)}",
        f"python {platform.python_version()}; {versions}",
    ]
    if backend is not None:
        lines.append(f"backend: {backend}")
    return lines


def command_line():
    """The exact command that ran this script."""
    return "python " + " ".join(shlex.quote(a) for a in sys.argv)


def print_header(title, backend=None):
    print(f"# {title}")
    for line in machine_lines(backend):
        print(f"# {line}")
    print(f"# command: {command_line()}")


def print_table(header, rows):
    """Prints a Markdown table; `rows` are lists of cells."""
    cells = [list(map(str, header))] + [list(map(str, row)) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    fmt = "| " + " | ".join(f"{{:<{w}}}" for w in widths) + " |"
    print(fmt.format(*cells[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print(fmt.format(*row))


def median(values):
    return statistics.median(values)


def print_report(title, header, rows, lines, output=None):
    """Prints the machine header, the table and the verdict `lines`; with
    `output`, also writes them as Markdown (title, machine and command as
    a list, the table, the verdicts as a list) to that file."""
    print_header(title)
    print_table(header, rows)
    for line in lines:
        print(line)
    if not output:
        return
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        print(f"{title}.\n")
        for line in machine_lines():
            print(f"- {line}")
        print(f"- command: `{command_line()}`\n")
        print_table(header, rows)
        print()
        for line in lines:
            print(f"- {line}")
    with open(output, "w") as f:
        f.write(buffer.getvalue())
