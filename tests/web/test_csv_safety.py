"""CSV downloads (core.csv): UTF-8 with a byte-order mark, and text a spreadsheet would run as a formula
is written as text."""

import csv
import io
from decimal import Decimal

import pytest

from core.csv import csv_response, safe_cell


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://evil","x")'])
def test_formula_text_is_made_inert(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["CEA21", "华能山东", "a=b", "", 0, -5, Decimal("-12.50")])
def test_everything_else_is_left_alone(value):
    assert safe_cell(value) == value


def test_none_is_an_empty_cell():
    assert safe_cell(None) == ""


def test_a_download_is_utf8_with_a_bom_and_every_cell_safe():
    response = csv_response("x.csv", ["名称", "=值"], [["华能 =cmd|' /C calc'!A0", -3], ["@x", None]])
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8")[1:])))
    assert rows == [["名称", "'=值"], ["华能 =cmd|' /C calc'!A0", "-3"], ["'@x", ""]]
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
