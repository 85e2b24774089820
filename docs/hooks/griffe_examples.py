"""Griffe extension: reads the library's `Examples:` sections as examples.

The docstrings of `keras_nlp_clone` write their doctest examples at the same
indentation as the `Examples:` header (the KerasNLP layout):

    Examples:
    >>> tokenizer("The quick brown fox.")
    [1996, 4248, 2829, 4419, 1012]

The Google docstring parser only takes indented lines as a section's
content, so such examples would be rendered as Markdown text (`>>>` as nested
quotes, `[...]` outputs as broken cross-references). This extension indents
the lines after an `Examples:` header, up to the next section header, before
the docstring is parsed; the source files are not changed. Content that is
already indented stays valid (it is indented once more, then dedented by the
parser).
"""

import re

import griffe

_EXAMPLES_HEADER = re.compile(r"Examples?:\s*")
# A Google-style section header at column 0, e.g. `References:`.
_SECTION_HEADER = re.compile(r"[A-Z][A-Za-z ]*:\s*")


def indent_examples(text):
    """Returns `text` with the content of `Examples:` sections indented.

    Args:
        text: str. A cleaned (dedented) docstring.

    Returns:
        str. The same docstring, with every non-blank line between an
        `Examples:` header and the next section header indented by four
        spaces.
    """
    lines = text.split("\n")
    in_examples = False
    for i, line in enumerate(lines):
        if _EXAMPLES_HEADER.fullmatch(line):
            in_examples = True
        elif in_examples and _SECTION_HEADER.fullmatch(line):
            in_examples = False
        elif in_examples and line.strip():
            lines[i] = "    " + line
    return "\n".join(lines)


class IndentExamples(griffe.Extension):
    """Indents unindented `Examples:` sections before parsing (see module)."""

    def on_instance(self, *, obj, **kwargs):
        docstring = obj.docstring
        if docstring is not None and "Example" in docstring.value:
            docstring.value = indent_examples(docstring.value)
