"""PDF from a report's HTML, with WeasyPrint (DESIGN §10: the same HTML, summaries only, charts as PNG).

`to_pdf(html)` lays out the HTML the html renderer makes for print — normally with
`pdf=True` (see render.render_bytes), which leaves out the row-level tables and
embeds charts as PNG — adding a print stylesheet: portrait Letter or A4, "page N of
M" in the footer, table headers repeated on every page, and the report's SYNTHETIC
(or RESTRICTED) banner text repeated in every page header. The page header takes
its text from the banner itself (CSS `string-set`), so a page says SYNTHETIC only
when the report does.

No network: WeasyPrint's URL fetcher is limited to `data:` URIs, so a stray link in
source text cannot make it fetch anything.
"""

from __future__ import annotations

PAPER = {"letter": "Letter", "a4": "A4"}

PRINT_CSS = """
@page {
  size: %(size)s portrait;
  margin: 18mm 10mm 18mm 10mm;
  @top-left { content: string(label); font: 700 8pt "DejaVu Sans", sans-serif; color: #8a5a00; }
  @top-right { content: string(restricted); font: 700 8pt "DejaVu Sans", sans-serif; color: #b42318; }
  @bottom-left { content: string(title); font: 7pt "DejaVu Sans", sans-serif; color: #4a5566;
                 width: 75%%; }
  @bottom-right { content: "page " counter(page) " of " counter(pages);
                  font: 8pt "DejaVu Sans", sans-serif; color: #4a5566; }
}
html { font-size: 8.5pt; }
body { font: 8.5pt/1.35 "DejaVu Sans", "Liberation Sans", sans-serif; margin: 0; max-width: none;
       padding: 0; color: #1d2430; }
h1 { font-size: 14pt; string-set: title content(); }
h2 { font-size: 11pt; margin-top: 12pt; break-after: avoid; }
h2 + * { break-before: avoid; }
.banner { padding: 4pt 7pt; margin: 6pt 0; }
.banner.synthetic { string-set: label content(); }
.banner.restricted { string-set: restricted "RESTRICTED"; }
table { font: 7pt/1.25 "DejaVu Sans Condensed", "Liberation Sans Narrow", "DejaVu Sans", sans-serif;
        margin: 4pt 0 8pt; width: 100%%; }
th, td { padding: 1.2pt 2pt; overflow-wrap: break-word; hyphens: auto; }
th { font-weight: 700; }
th:first-child, td:first-child { min-width: 16mm; }
/* many-column tables (class "wide"): fixed layout, label columns sized, counts share the rest */
table.wide { table-layout: fixed; font-size: 6pt; }
table.wide th, table.wide td { padding: 1.2pt 1.5pt; }
table.wide td { overflow-wrap: anywhere; }
table.wide th:nth-child(1) { width: 13%%; }
table.wide th:nth-child(2) { width: 9%%; }
table.wide th:nth-child(3) { width: 8.5%%; }
thead { display: table-header-group; }
table, tr, figure { break-inside: avoid; }
figure.chart { margin: 6pt 0 10pt; }
figure.chart img { max-width: 100%%; height: auto; }
.policy { break-inside: avoid; break-after: avoid; }
.row-level { font-style: italic; color: #4a5566; }
section { break-before: auto; }
code { font-size: 6.5pt; }
a { color: inherit; text-decoration: none; }
"""


def to_pdf(html: str, *, paper: str = "letter") -> bytes:
    """The HTML laid out as a PDF, portrait `letter` (default) or `a4`."""
    from weasyprint import HTML, URLFetcher

    if paper not in PAPER:
        raise ValueError(f"paper is one of {', '.join(PAPER)}, not {paper!r}")
    fetcher = URLFetcher(allowed_protocols=["data"])  # data: URIs (the charts) only; nothing from a network
    return HTML(string=with_print_css(html, paper), url_fetcher=fetcher).write_pdf()


def with_print_css(html: str, paper: str = "letter") -> str:
    """The HTML with the print stylesheet as its last `<style>`, so it wins over the screen styles.

    (Stylesheets handed to WeasyPrint separately are user stylesheets, which the page's own
    styles override; the print rules must come from the page itself.)
    """
    style = f"<style>{PRINT_CSS % {'size': PAPER[paper]}}</style>"
    at = html.find("</head>")
    return html[:at] + style + html[at:] if at >= 0 else style + html
