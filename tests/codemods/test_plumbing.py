"""Reading class headers and method signatures, and laying out what the plumbing adds."""

from __future__ import annotations

import pytest

from tokentrail_codemods._lines import LineIndex
from tokentrail_codemods._plumbing import ClassLayout, class_layout, fit_call, instance_parameter

DECORATED = '''\
@dataclass(
    frozen=False,
)
class Service(
    pkg.Base,
    Generic[T],
    metaclass=Meta,
):
    """Doc."""

    @staticmethod
    def helper() -> None: ...

    async def run[X](
        this,  # the instance
        prompt: str,
    ) -> None:
        agent.run(prompt)
'''


def _layout(text: str) -> tuple[LineIndex, ClassLayout | None]:
    index = LineIndex(text)
    lines = text.splitlines()
    return index, class_layout(index, 1, len(lines), len(lines[-1]) + 1)


def _required_layout(text: str) -> tuple[LineIndex, ClassLayout]:
    index, layout = _layout(text)
    assert layout is not None
    return index, layout


def test_decorated_multi_line_header() -> None:
    index, layout = _required_layout(DECORATED)
    assert layout.header_line == 4
    assert layout.bases == ("Base", "Generic")
    assert layout.body_indentation == "    "
    assert layout.after_docstring
    assert index.text[layout.fields_at :].startswith("\n    @staticmethod")
    assert layout.end == len(index.text)


def test_instance_parameter_of_a_generic_async_method() -> None:
    index, layout = _required_layout(DECORATED)
    assert instance_parameter(index, layout, 17, "run") == "this"


def test_static_methods_have_no_instance() -> None:
    index, layout = _required_layout(DECORATED)
    assert instance_parameter(index, layout, 12, "helper") is None


def test_a_method_defined_elsewhere_is_not_found() -> None:
    index, layout = _required_layout(DECORATED)
    assert instance_parameter(index, layout, 17, "missing") is None


@pytest.mark.parametrize("text", ["class Tiny: x = 1\n", "class Broken(:\n    pass\n"])
def test_headers_that_cannot_take_plumbing(text: str) -> None:
    _, layout = _layout(text)
    assert layout is None


def test_fit_call_uses_the_three_layouts_ruff_uses() -> None:
    assert fit_call("    x = ", "f", ["a", "b"], 20) == ["    x = f(a, b)"]
    assert fit_call("    x = ", "f", ["alpha", "beta"], 19) == [
        "    x = f(",
        "        alpha, beta",
        "    )",
    ]
    assert fit_call("    x = ", "f", ["alpha", "beta"], 12) == [
        "    x = f(",
        "        alpha,",
        "        beta,",
        "    )",
    ]
