"""`key_param`: a row key from a query string or a form, or None — never an exception, never a
number the database cannot hold (black-box review, session 7)."""

from hypothesis import given
from hypothesis import strategies as st

from hongniang.workbench.listing import MAX_KEY, key_param


@given(st.one_of(st.text(), st.none(), st.integers()))
def test_any_input_gives_none_or_a_key_the_database_holds(value):
    key = key_param(value)
    assert key is None or (isinstance(key, int) and 0 < key <= MAX_KEY)


@given(st.integers(min_value=1, max_value=MAX_KEY))
def test_a_key_written_in_ascii_digits_is_read_back(key):
    assert key_param(str(key)) == key
    assert key_param(f" {key} ") == key


def test_what_is_no_key():
    for value in ("", "0", "-3", "1.5", "½", "12a", "١٢", str(MAX_KEY + 1), "9" * 30):
        assert key_param(value) is None, value
    assert key_param("１２") == 12  # typed with a Chinese input method
    assert key_param("²") == 2
