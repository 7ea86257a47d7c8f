"""core.csv: the one CSV writer of the project's downloads (UTF-8 with BOM, formula-injection safe)."""

import csv
import io

import pytest

from core.csv import csv_text, safe_cell


@pytest.mark.parametrize("payload", ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x","y")'])
def test_text_a_spreadsheet_would_run_is_written_behind_an_apostrophe(payload):
    assert safe_cell(payload) == "'" + payload


@pytest.mark.parametrize("value", ["Huaneng Power", "华能山东", "", "a=b", " =1", 5, -5, 0])
def test_everything_else_is_left_alone(value):
    assert safe_cell(value) == value


def test_none_is_an_empty_cell():
    assert safe_cell(None) == ""


def test_the_text_starts_with_a_bom_and_reads_back():
    text = csv_text(["name", "tonnes"], [["=cmd", -3], ['Quote "Power", Ltd.', 7]])
    assert text.startswith("\ufeffname,tonnes\r\n")
    assert list(csv.reader(io.StringIO(text[1:]))) == [["name", "tonnes"], ["'=cmd", "-3"], ['Quote "Power", Ltd.', "7"]]
