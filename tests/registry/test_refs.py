from __future__ import annotations

import pytest

from modelbook.errors import InvalidNameError
from modelbook.registry.refs import Ref, parse_ref, validate_alias, validate_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("churn", Ref("churn")),
        ("churn@3", Ref("churn", version=3)),
        ("churn@production", Ref("churn", alias="production")),
        ("churn@latest", Ref("churn")),
        ("a.b-c_d@12", Ref("a.b-c_d", version=12)),
    ],
)
def test_parse_ref(text: str, expected: Ref) -> None:
    assert parse_ref(text) == expected
    assert str(expected) == (text if text != "churn@latest" else "churn")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "",
            "invalid name '': a name must start with a letter and use only letters, digits, '_', '-' or '.' (at most 128).",
        ),
        (
            "3churn",
            "invalid name '3churn': a name must start with a letter and use only letters, digits, '_', '-' or '.' (at most 128).",
        ),
        ("churn@0", "invalid reference 'churn@0': versions start at 1."),
        (
            "churn@pro duction",
            "invalid reference 'churn@pro duction': write NAME, NAME@VERSION or NAME@ALIAS, e.g. 'churn@3'.",
        ),
        (
            "my model",
            "invalid name 'my model': a name must start with a letter and use only letters, digits, '_', '-' or '.' (at most 128).",
        ),
    ],
)
def test_parse_ref_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidNameError) as info:
        parse_ref(text)
    assert str(info.value) == message


def test_alias_rules() -> None:
    assert validate_alias("production") == "production"
    with pytest.raises(InvalidNameError, match="'latest' is reserved"):
        validate_alias("latest")
    with pytest.raises(InvalidNameError, match="an alias must start with a letter"):
        validate_alias("3")
    assert validate_name("churn") == "churn"
