"""The contract PDF's amount in Chinese capitals (大写金额), as written on contracts."""

from decimal import Decimal

import pytest

from hongniang.finance.pdf import rmb_in_words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("6800.00", "人民币陆仟捌佰元整"),
        ("19800", "人民币壹万玖仟捌佰元整"),
        ("10200.50", "人民币壹万零贰佰元伍角"),
        ("1005", "人民币壹仟零伍元整"),
        ("1010", "人民币壹仟零壹拾元整"),
        ("30500", "人民币叁万零伍佰元整"),
        ("100000", "人民币壹拾万元整"),
        ("100001", "人民币壹拾万零壹元整"),
        ("120000.07", "人民币壹拾贰万元零柒分"),
        ("1000000.10", "人民币壹佰万元壹角"),
        ("200000000", "人民币贰亿元整"),
        ("0.05", "人民币伍分"),
        ("12.34", "人民币壹拾贰元叁角肆分"),
    ],
)
def test_amounts_in_capitals(amount, words):
    assert rmb_in_words(Decimal(amount)) == words
