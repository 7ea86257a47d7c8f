"""axe-core in the browser: the serious and critical accessibility violations of the page shown.

The engine is vendored (tests/e2e/vendor/axe-core-4.10.3.min.js, from `npm pack axe-core@4.10.3`,
MPL-2.0), injected by the test, never served by the site."""

from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.10.3.min.js"

_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ")}`);
}"""


def serious_violations(page) -> list[str]:
    """Runs axe-core on the page as it is now; one line per serious or critical rule broken."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(_RUN)
