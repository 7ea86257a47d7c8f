"""Every refusal speaks the caller's language (issue 15, item 10).

- In the source: every message a user reads from a refusal (a DomainError, a ValidationError, an
  import's row error) is given through gettext with %(name)s placeholders, never as a plain string or
  an f-string; nothing is translated at import time with the non-lazy gettext (it would be frozen in
  the default language).
- In the catalogue: no entry is fuzzy or empty; every `%` is a named placeholder or `%%`, and the
  entry is marked python-format exactly when xgettext would mark it (else the next makemessages marks
  it fuzzy, and msgfmt leaves it out of the .mo); msgid and msgstr have the same placeholders; the
  committed .mo is what the .po compiles to; makemessages on the current source finds nothing new to
  translate.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "allocation", "carryover", "compliance", "core", "offsets", "registry", "reports", "surveillance", "trading",
        "enforcement", "web", "demo")
LOCALE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"

# --- the source ---

LAZY = {"gettext_lazy", "ngettext_lazy", "pgettext_lazy", "npgettext_lazy"}
EAGER = {"gettext", "ngettext", "pgettext", "npgettext"}
# Where the message is, in the constructors whose message a user reads besides the DomainErrors:
# Django's and DRF's ValidationError (forms, validators, serializers) and an import's row error.
# (CommandError is not among them: management commands speak to an operator's terminal, in English like the logs.)
MESSAGE_POSITION = {"ValidationError": 0, "RowError": 2}


def _sources() -> list[Path]:
    return sorted(path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts)


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _refusal_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """DomainError and every class deriving from it, under any name it is imported as."""
    bases: dict[str, set[str]] = {}
    aliases: dict[str, set[str]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(filter(None, map(_name, node.bases)))
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.asname:
                        aliases.setdefault(alias.name, set()).add(alias.asname)
    found = {"DomainError"}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            break
        found |= more
    return found | {alias for name in found for alias in aliases.get(name, ())}


@dataclass
class _Module:
    path: Path
    tree: ast.Module
    gettext_names: dict[str, str] = field(default_factory=dict)  # local name -> django.utils.translation function

    def __post_init__(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                for alias in node.names:
                    self.gettext_names[alias.asname or alias.name] = alias.name

    def translation_function(self, call: ast.Call) -> str | None:
        name = _name(call.func)
        if isinstance(call.func, ast.Attribute) and _name(call.func.value) == "translation":
            return name if name in LAZY | EAGER else None
        return self.gettext_names.get(name or "") if name in self.gettext_names else None


def _untranslated(module: _Module, node: ast.AST, assignments: dict[str, list[ast.AST]]) -> bool:
    """Whether `node`, a message, is text that bypasses gettext."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Mod):  # "..." % values is untranslated; gettext("...") % values is fine
            return _untranslated(module, node.left, assignments)
        return _untranslated(module, node.left, assignments) or _untranslated(module, node.right, assignments)
    if isinstance(node, ast.IfExp):
        return _untranslated(module, node.body, assignments) or _untranslated(module, node.orelse, assignments)
    if isinstance(node, ast.Call):
        if module.translation_function(node):
            return False
        if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            return _untranslated(module, node.func.value, assignments)
        return False
    if isinstance(node, ast.Name):  # a message put in a variable first
        return any(_untranslated(module, value, {}) for value in assignments.get(node.id, []))
    return False


def _assignments(function: ast.AST) -> dict[str, list[ast.AST]]:
    found: dict[str, list[ast.AST]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name) and node.value:
            found.setdefault(node.target.id, []).append(node.value)
    return found


def _message_argument(call: ast.Call, position: int) -> ast.AST | None:
    for keyword in call.keywords:
        if keyword.arg == "message":
            return keyword.value
    return call.args[position] if len(call.args) > position else None


def _called_classes(call: ast.Call) -> set[str]:
    """The names a call constructs: `X(...)`, `errors.X(...)`, `(X if c else Y)(...)`."""
    if isinstance(call.func, ast.IfExp):
        return {name for name in (_name(call.func.body), _name(call.func.orelse)) if name}
    name = _name(call.func)
    return {name} if name else set()


def _problems(module: _Module, refusals: set[str]) -> list[str]:
    problems: list[str] = []
    where = f"{module.path.relative_to(ROOT)}"

    def visit(node: ast.AST, function: ast.AST | None, assignments: dict[str, list[ast.AST]]) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            function, assignments = node, _assignments(node)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.endswith("refusal"):
                # A function that says why something is refused (its answer becomes a message).
                for returned in ast.walk(node):
                    if isinstance(returned, ast.Return) and returned.value is not None \
                            and _untranslated(module, returned.value, assignments):
                        problems.append(f"{where}:{returned.lineno}: {node.name} returns an untranslated reason")
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and any(
                    isinstance(target, ast.Name) and target.id == "default_message" for target in statement.targets
                ):
                    value = statement.value
                    lazy = isinstance(value, ast.Call) and module.translation_function(value) in LAZY
                    if not lazy:
                        problems.append(f"{where}:{statement.lineno}: {node.name}.default_message is not gettext_lazy(...)")
        if isinstance(node, ast.Call):
            kind = module.translation_function(node)
            if function is None and kind in EAGER:
                problems.append(f"{where}:{node.lineno}: {kind}() at import time is frozen in the default language: "
                                f"use gettext_lazy")
            for name in _called_classes(node):
                position = 0 if name in refusals else MESSAGE_POSITION.get(name)
                if position is None:
                    continue
                message = _message_argument(node, position)
                if message is not None and _untranslated(module, message, assignments):
                    problems.append(f"{where}:{node.lineno}: {name}({ast.unparse(message)[:80]}): "
                                    f"give the message through gettext")
        for child in ast.iter_child_nodes(node):
            visit(child, function, assignments)

    visit(module.tree, None, {})
    return problems


def test_every_refusal_message_is_translatable():
    trees = {path: ast.parse(path.read_text(encoding="utf-8"), filename=str(path)) for path in _sources()}
    refusals = _refusal_classes(trees)
    assert {"DomainError", "InvalidInput", "NotFound", "ImportRefused", "OffsetCapExceeded", "PlanNotInState",
            "UnknownInstrument", "VerifiedEmissionsRefused"} <= refusals
    problems = [problem for path, tree in trees.items() for problem in _problems(_Module(path, tree), refusals)]
    assert problems == [], "refusal messages a user reads in English only:\n" + "\n".join(problems)


def test_the_check_finds_what_it_is_for():
    """The source check itself: it names plain, f-string, %-formatted and .format() messages, messages
    put in a variable first, untranslated default messages and import-time gettext; it accepts
    gettext with placeholders."""
    source = '''
from django.utils.translation import gettext as _, gettext_lazy
from core.errors import DomainError, InvalidInput

FROZEN = _("Frozen at import.")

class Refusal(DomainError):
    default_message = "Plain default."

class Fine(DomainError):
    default_message = gettext_lazy("Translated default.")

def refuse(name, ok):
    message = f"No {name}."
    raise Refusal(message) if ok else InvalidInput(_("No %(name)s.") % {"name": name}, field="name")

def more(name):
    raise InvalidInput("No such thing.")
    raise InvalidInput(f"No {name}.")
    raise InvalidInput("No %s." % name)
    raise InvalidInput("No {}.".format(name))
    raise InvalidInput(message="No such thing.")
    errors.append(RowError(1, "uscc", f"no {name}"))

def why_refusal(name):
    return f"{name} is wrong"
'''
    module = _Module(ROOT / "core" / "example.py", ast.parse(source))
    problems = _problems(module, {"DomainError", "InvalidInput", "Refusal", "Fine"})
    lines = sorted(int(problem.split(":")[1]) for problem in problems)
    assert lines == [5, 8, 15, 18, 19, 20, 21, 22, 23, 26], problems


# --- the catalogue ---


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstrs: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> str:
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file (obsolete ones left out), as written by xgettext and msgmerge."""
    entries: list[Entry] = []
    entry, part = Entry(), None

    def flush() -> None:
        nonlocal entry
        if part is not None:
            entries.append(entry)
        entry = Entry()

    def text(quoted: str) -> str:
        return ast.literal_eval(quoted)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            flush()
            part = None
        elif line.startswith("#~"):
            continue
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if part == "msgid":
                entry.msgid += text(line)
            elif part == "msgid_plural":
                entry.msgid_plural += text(line)
            elif part == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + text(line)
            elif isinstance(part, int):
                entry.msgstrs[part] += text(line)
        else:
            keyword, _, value = line.partition(" ")
            if keyword == "msgid":
                entry.line = number
            match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            part = int(match.group(1)) if match else 0 if keyword == "msgstr" else keyword
            if isinstance(part, int):
                entry.msgstrs[part] = text(value)
            elif part == "msgctxt":
                entry.msgctxt = text(value)
            else:
                setattr(entry, part, text(value))
    flush()
    return [entry for entry in entries if entry.msgid]  # (the header has an empty msgid)


# A Python %-directive as xgettext reads one: %, an optional (name), flags, width, precision, a conversion.
DIRECTIVE = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa]")


def directives(text: str) -> tuple[list[re.Match[str]], list[str]]:
    """The %-directives of a text and its stray % signs (neither a directive nor %%)."""
    found, stray, index = [], [], 0
    while (index := text.find("%", index)) != -1:
        if text.startswith("%%", index):
            index += 2
            continue
        match = DIRECTIVE.match(text, index)
        if match is None:
            stray.append(text[index:index + 3])
            index += 1
        else:
            found.append(match)
            index = match.end()
    return found, stray


def format_problems(entry: Entry) -> list[str]:
    """What is wrong with an entry's % signs (empty: nothing)."""
    problems = []
    where = f"line {entry.line} {entry.msgid!r}"
    sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
    found = [match for text in sources for match in directives(text)[0]]
    for text in sources + list(entry.msgstrs.values()):
        stray = directives(text)[1]
        if stray:
            problems.append(f"{where}: a stray % in {text!r} ({stray}): write %% or a %(name)s placeholder")
    for match in found:
        if match.group("name") is None:
            problems.append(f"{where}: {match.group(0)!r} reads as a positional format: name it %(name)s, or write %%")
    marked = "python-format" in entry.flags
    formatted = bool(found) or any("%%" in text for text in sources)
    if formatted and not marked:
        problems.append(f"{where}: makemessages will mark it python-format, and the entry fuzzy")
    if marked and not formatted:
        problems.append(f"{where}: marked python-format without a placeholder")
    names = {match.group("name") for match in found} - {None}
    for index, text in entry.msgstrs.items():
        translated = {match.group("name") for match in directives(text)[0]} - {None}
        if text and translated != names and not (entry.msgid_plural and translated <= names):
            problems.append(f"{where}: msgstr[{index}] has placeholders {sorted(translated)}, the msgid {sorted(names)}")
    return problems


def test_the_catalogue_has_no_fuzzy_or_empty_entry():
    entries = parse_po(LOCALE / "django.po")
    assert len(entries) > 500
    fuzzy = [f"line {entry.line}: {entry.msgid!r}" for entry in entries if "fuzzy" in entry.flags]
    assert fuzzy == [], "fuzzy entries are left out of the .mo: translate them and unmark them\n" + "\n".join(fuzzy)
    empty = [f"line {entry.line}: {entry.msgid!r}" for entry in entries if not all(entry.msgstrs.values())]
    assert empty == [], "untranslated entries:\n" + "\n".join(empty)


def test_every_percent_sign_in_the_catalogue_is_a_named_placeholder_or_escaped():
    problems = [problem for entry in parse_po(LOCALE / "django.po") for problem in format_problems(entry)]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("msgid, flags, msgstr, problem", [
    # Issue 15: gettext reads "% o" as a format; makemessages then marks the entry fuzzy.
    ("Offsets may cover at most 5 % of the obligation.", {"no-python-format"}, "最多 5%。", "positional format"),
    ("At most 5%% of %(total)s.", {"python-format"}, "最多 %(total)s 的 5%%。", None),
    ("At most 5%% of it.", set(), "最多 5%%。", "will mark it python-format"),
    ("Share 100 %, at most.", set(), "比例 100 %，最多。", "stray %"),
    ("No %(name)s.", {"python-format"}, "没有 %(nom)s。", "placeholders"),
    ("No %s.", {"python-format"}, "没有 %s。", "positional format"),
    ("Nothing to format.", {"python-format"}, "无。", "without a placeholder"),
])
def test_the_catalogue_check_finds_what_it_is_for(msgid, flags, msgstr, problem):
    problems = format_problems(Entry(msgid=msgid, flags=flags, msgstrs={0: msgstr}))
    if problem is None:
        assert problems == []
    else:
        assert any(problem in found for found in problems), problems


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext is not installed (scripts/system-deps.sh installs it)")
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_the_committed_mo_is_what_the_po_compiles_to(domain, tmp_path):
    """The .mo files are committed (running the site needs no gettext): each must hold exactly what its
    .po compiles to now (python manage.py compilemessages, then commit the .mo)."""
    compiled = tmp_path / f"{domain}.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(LOCALE / f"{domain}.po")], check=True,
                   capture_output=True)
    with open(compiled, "rb") as fresh, open(LOCALE / f"{domain}.mo", "rb") as committed:
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(fresh)._catalog, (
            "run python manage.py compilemessages -l zh_Hans and commit the .mo")


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed (scripts/system-deps.sh installs it)")
def test_makemessages_finds_nothing_to_translate(tmp_path):
    """makemessages, run on a copy of the current source (as the .po's header says), leaves no entry
    fuzzy or untranslated: every translatable text of the source has its Chinese."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".*", "var", "__pycache__", "tests", "bench", "*.mo"))
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--ignore", "tests/*", "--ignore", "bench/*",
         "--no-obsolete"],
        cwd=copy, env=environment, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    entries = parse_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    fuzzy = [entry.msgid for entry in entries if "fuzzy" in entry.flags]
    assert fuzzy == [], "makemessages marks these fuzzy: fix their % signs or their translation"
    untranslated = [entry.msgid for entry in entries if not all(entry.msgstrs.values())]
    assert untranslated == [], ("new texts without a translation: run makemessages (see the .po's header) and "
                                "translate them in locale/zh_Hans/LC_MESSAGES/django.po")


def test_chinese_pages_group_numbers_by_three_and_keep_chinese_dates():
    """Django's zh_Hans formats group no digits; config/formats makes tonnes read 5,388,813 there too."""
    import datetime

    from django.contrib.humanize.templatetags.humanize import intcomma
    from django.utils import translation
    from django.utils.formats import date_format, number_format

    with translation.override("zh-hans"):
        assert intcomma(5_388_813) == "5,388,813"
        assert number_format(1234567, force_grouping=True) == "1,234,567"
        assert date_format(datetime.date(2026, 12, 5)) == "2026年12月5日"
