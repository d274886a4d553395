"""Python functions as tools: the JSON schema from signatures, hints and docstrings (no server)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypedDict

import jsonschema
import pydantic
import pytest

from hookwire.errors import InvalidRequest
from hookwire.llm.tools import Tool, Toolbox, schema_of, tool


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(pydantic.BaseModel):
    street: str
    zip_code: int


class Point(TypedDict):
    x: float
    y: float


@dataclass
class Box:
    width: int
    label: str = ""


def everything(
    name: str,
    count: int,
    ratio: float,
    flag: bool,
    tags: list[str],
    scores: dict[str, float],
    mode: Literal["fast", "slow"],
    colour: Colour,
    address: Address,
    point: Point,
    box: Box,
    note: Annotated[str, "a short note"],
    maybe: int | None = None,
    pair: tuple[int, str] = (1, "a"),
) -> None:
    """Do everything at once.

    A second paragraph that is not the description.

    Args:
        name: Who it is for.
        count (int): How many,
            at most ten.
    """


def test_schema_follows_hints_defaults_and_docstring() -> None:
    made = Tool(everything)
    wire = made.to_wire()["function"]
    assert wire["name"] == "everything" and wire["description"] == "Do everything at once."
    p = wire["parameters"]
    props = p["properties"]
    assert p["required"] == [
        "name", "count", "ratio", "flag", "tags", "scores", "mode", "colour", "address",
        "point", "box", "note",
    ]
    assert props["name"] == {"type": "string", "description": "Who it is for."}
    assert props["count"]["description"] == "How many, at most ten."
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert props["scores"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert props["mode"] == {"enum": ["fast", "slow"], "type": "string"}
    assert props["colour"] == {"enum": ["red", "blue"], "type": "string"}
    assert props["note"] == {"type": "string", "description": "a short note"}
    assert props["maybe"] == {"type": ["integer", "null"], "default": None}
    assert props["pair"]["prefixItems"] == [{"type": "integer"}, {"type": "string"}]
    assert props["address"] == {"$ref": "#/$defs/Address"}
    assert set(p["$defs"]) == {"Address", "Point", "Box"}
    assert p["$defs"]["Box"]["required"] == ["width"]
    jsonschema.Draft202012Validator.check_schema(p)  # a valid schema, refs resolvable
    good = {"name": "a", "count": 1, "ratio": 0.5, "flag": True, "tags": [], "scores": {},
            "mode": "fast", "colour": "red", "address": {"street": "s", "zip_code": 1},
            "point": {"x": 1, "y": 2}, "box": {"width": 3}, "note": "n"}
    jsonschema.validate(good, p)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "mode": "medium"}, p)


def test_arguments_build_models_enums_and_dataclasses() -> None:
    made = Tool(everything)
    kwargs = made.arguments({"colour": "blue", "address": {"street": "s", "zip_code": 2},
                             "box": {"width": 1}, "maybe": None})
    assert kwargs["colour"] is Colour.BLUE and kwargs["address"] == Address(street="s",
                                                                            zip_code=2)
    assert kwargs["box"] == Box(1) and kwargs["maybe"] is None


def test_docstring_styles() -> None:
    def numpy_style(city: str) -> None:
        """Weather.

        Parameters
        ----------
        city : str
            The city
            name.
        """

    def sphinx_style(city: str) -> None:
        """Weather now.

        :param str city: the city
        :returns: nothing
        """

    assert schema_of(numpy_style)["properties"]["city"]["description"] == "The city name."
    assert schema_of(sphinx_style)["properties"]["city"]["description"] == "the city"


def test_tool_decorator_renames_and_redescribes() -> None:
    @tool(name="lookup-v2", description="Look it up.")
    def lookup(q: str) -> str:
        return q

    assert lookup.name == "lookup-v2" and lookup.description == "Look it up."
    assert lookup("x") == "x" and not lookup.is_async

    @tool
    async def fetch(url: str) -> str:
        return url

    assert fetch.is_async and fetch.name == "fetch"


@pytest.mark.parametrize(
    ("fn", "said"),
    [
        (lambda *args: None, r"\*args"),
        (lambda **kw: None, r"\*\*kwargs"),
    ],
)
def test_unnamed_parameters_are_refused(fn: Any, said: str) -> None:
    fn.__name__ = "f"
    with pytest.raises(InvalidRequest, match=said):
        Tool(fn)


def test_bad_names_types_and_duplicates_are_refused() -> None:
    def f(x: int) -> None: ...

    with pytest.raises(InvalidRequest, match="not valid"):
        Tool(f, name="has space")

    def g(x: complex) -> None: ...

    with pytest.raises(InvalidRequest, match=r"parameter 'x'.*no JSON schema"):
        Tool(g)
    with pytest.raises(InvalidRequest, match="two tools are named 'f'"):
        Toolbox([f, Tool(f)])
    with pytest.raises(InvalidRequest, match="must be a list"):
        Toolbox(f)  # type: ignore[arg-type]


def test_toolbox_mixes_functions_and_raw_dicts() -> None:
    def f(x: int) -> int:
        return x

    raw = {"type": "function", "function": {"name": "raw", "parameters": {"type": "object"}}}
    box = Toolbox([f, raw])
    assert [t["function"]["name"] for t in box.wire] == ["f", "raw"]
    assert Toolbox.wanted([f, raw]) and not Toolbox.wanted([raw])
