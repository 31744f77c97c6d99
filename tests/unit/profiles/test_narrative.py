"""XHTML narrative checks (txt-1/txt-2 approximation)."""

from __future__ import annotations

import pytest

from profiles.narrative import narrative_problems

NS = 'xmlns="http://www.w3.org/1999/xhtml"'


@pytest.mark.parametrize(
    "div",
    [
        f"<div {NS}><p>Hello <b>world</b></p></div>",
        f'<div {NS}><img src="#x" alt="a"/></div>',
        f'<div {NS}><a href="http://x">x</a></div>',
    ],
)
def test_good_narrative(div: str) -> None:
    assert narrative_problems(div) == []


@pytest.mark.parametrize(
    ("div", "problem"),
    [
        (f"<div {NS}><script>alert(1)</script></div>", "illegal element"),
        (f'<div {NS}><p onclick="x()">x</p></div>', "illegal attribute"),
        (f'<div {NS}><a href="javascript:x()">x</a></div>', "active content"),
        ("<div><p>no namespace</p></div>", "XHTML"),
        (f"<div {NS}><p>unclosed</div>", "well-formed"),
        (f"<div {NS}>   </div>", "non-whitespace"),
        (f'<!DOCTYPE x [<!ENTITY e "boom">]><div {NS}>&e;</div>', "DOCTYPE"),
    ],
)
def test_bad_narrative(div: str, problem: str) -> None:
    assert any(problem in p for p in narrative_problems(div))
