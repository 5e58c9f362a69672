"""The azcam request and reply text."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocturna.azcam.protocol import format_payload, parse_request, tokenize
from nocturna.core.errors import InvalidValueError


def test_tokens_split_shell_style_with_quotes_removed() -> None:
    assert tokenize('exposure.expose 1.5 object "M 31 field #3"') == [
        "exposure.expose", "1.5", "object", "M 31 field #3"]
    assert tokenize("a 'single quoted' b\\ c") == ["a", "single quoted", "b c"]


def test_unbalanced_quote_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="no closing quotation"):
        tokenize('exposure.expose 1 object "open')


def test_request_has_tool_method_args_and_keywords() -> None:
    request = parse_request('exposure.expose 2 flat title="dome flat"')
    assert (request.tool, request.method, request.args) == ("exposure", "expose",
                                                            ("2", "flat"))
    assert request.kwargs == {"title": "dome flat"}
    assert request.name == "exposure.expose"


def test_bare_method_has_no_tool() -> None:
    request = parse_request("get_status")
    assert request.tool is None and request.name == "get_status"


def test_value_with_equals_sign_stays_in_the_keyword_value() -> None:
    assert parse_request("t.m note=a=b").kwargs == {"note": "a=b"}


def test_positional_after_keyword_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="positional argument 'x' after keyword"):
        parse_request("t.m a=1 x")


def test_repeated_keyword_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="keyword 'a' given twice"):
        parse_request("t.m a=1 a=2")


def test_dotted_tool_names_keep_all_but_the_last_part() -> None:
    request = parse_request("exposure.sendimage.set_remote_imageserver localhost 6543 azcam")
    assert (request.tool, request.method) == ("exposure.sendimage", "set_remote_imageserver")
    assert request.args == ("localhost", "6543", "azcam")


@pytest.mark.parametrize("line", ["9tool.m", "tool..m", "t.m-x"])
def test_malformed_command_names_are_refused(line: str) -> None:
    with pytest.raises(InvalidValueError, match="is not a command"):
        parse_request(line)


def test_payloads_are_formatted_as_azcam_clients_read_them() -> None:
    assert format_payload(None) == ""
    assert format_payload("as is") == "as is"
    assert format_payload(3) == "3"
    assert format_payload(2.5) == "2.5"
    assert format_payload(True) == "True"
    words = ["one", "two words", 3, "", "it's"]
    text = format_payload(words)
    assert shlex.split(text) == ["one", "two words", "3", "", "it's"]
    assert json.loads(format_payload({"a": 1, "b": float("nan")})) == {"a": 1, "b": None}


def test_numpy_scalars_are_plain_numbers() -> None:
    assert format_payload(np.float32(1.5)) == "1.5"
    assert format_payload(np.int64(7)) == "7"


def test_line_breaks_never_split_a_reply() -> None:
    assert format_payload("two\nlines\r") == "two\\nlines\\r"


@settings(max_examples=300, deadline=None)
@given(line=st.text(alphabet=st.characters(blacklist_characters="'\"\\"), max_size=80))
def test_unquoted_lines_split_exactly_as_shlex_would(line: str) -> None:
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split, lexer.commenters = True, ""
    assert tokenize(line) == list(lexer)
