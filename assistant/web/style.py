"""The page's look: Gradio's default theme with local fonts only (the stock theme fetches Google Fonts, which
would tell a third party that the page is open), and a little CSS for answers, source cards and tables.
Colours are Gradio's own variables where they exist, so dark mode keeps its contrast."""

from __future__ import annotations

from typing import Any

SYSTEM_FONTS = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif")
MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")

CSS = """
.gradio-container{max-width:1400px !important}
#latent-header h1{margin-bottom:.1rem}
#latent-header p{margin:.1rem 0}
.privacy{padding:.45rem .8rem;border-radius:6px;margin:.2rem 0;font-size:.95rem}
.privacy.local{background:#e8f5ec;color:#123d22;border:1px solid #9fd3b0}
.privacy.remote{background:#fff4d6;color:#3d2a00;border:2px solid #b45309;font-weight:600}
.answer p{margin:.25rem 0}
.answer .answer-heading{margin-top:.7rem}
.answer .read-as,.answer .hint{font-size:.9em;opacity:.85}
.answer .notice{font-weight:600}
.answer.refused .refusal,.answer.refused p:first-child{font-weight:600}
a.cite{font-weight:600;text-decoration:underline;padding:0 .1em;border-radius:3px}
a.cite:focus-visible,.source-card a:focus-visible{outline:3px solid #b45309;outline-offset:2px}
.sources{max-height:78vh;overflow-y:auto;padding-right:.3rem}
.sources h3{font-size:1rem;margin:.6rem 0 .3rem}
.source-card{border:1px solid var(--border-color-primary);border-radius:8px;padding:.55rem .8rem;margin:.5rem 0;
  scroll-margin-top:1rem;background:var(--block-background-fill)}
.source-card:target{outline:3px solid #b45309;outline-offset:1px}
.source-card h4{margin:0 0 .2rem;font-size:.98rem}
.source-card .meta,.source-card .section{font-size:.88rem;margin:.1rem 0;opacity:.9}
.source-card blockquote{margin:.4rem 0;padding:.1rem 0 .1rem .7rem;border-left:3px solid var(--border-color-primary);
  white-space:normal;overflow-wrap:anywhere}
.source-card .open{margin:.2rem 0 0;font-size:.92rem}
mark{background:#fde68a;color:#111;padding:0 .1em}
table.documents{border-collapse:collapse;width:100%;font-size:.92rem}
table.documents caption{text-align:left;font-weight:600;margin-bottom:.3rem}
table.documents th,table.documents td{border-bottom:1px solid var(--border-color-primary);padding:.3rem .4rem;
  text-align:left;vertical-align:top;overflow-wrap:anywhere}
table.documents td.num{text-align:right}
#documents-list{overflow-x:auto}
#findings-table table,#findings-table td,#findings-table th,#findings-table span{font-family:var(--font) !important}
.example-row button{white-space:normal !important;text-align:left}
@media (max-width:640px){
  .sources{max-height:none}
  table.documents th:nth-child(6),table.documents td:nth-child(6){display:none}
}
"""

# Gradio 6 labels each chat message with its raw content (aria-label="bot's message: <div class=…"), so a screen
# reader would spell out our markup; the message's own text is what should be read. Drop those labels whenever
# Gradio sets them.
PAGE_JS = """() => {
  const clean = () => document.querySelectorAll('[data-testid="bot"][aria-label], [data-testid="user"][aria-label]')
    .forEach((e) => e.removeAttribute('aria-label'));
  new MutationObserver(clean).observe(document.body,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['aria-label']});
  clean();
}"""


def page_theme() -> Any:
    import gradio as gr

    # Stock primary and stop buttons put white text on blue-500 / red-500 (about 3.7:1); 700 gives 6-7:1.
    theme = gr.themes.Default(primary_hue="blue", font=list(SYSTEM_FONTS), font_mono=list(MONO_FONTS))
    return theme.set(
        button_primary_background_fill="*primary_700", button_primary_background_fill_hover="*primary_800",
        button_primary_text_color="white", button_primary_border_color="*primary_700",
        button_cancel_background_fill="#b91c1c", button_cancel_background_fill_hover="#991b1b",
        button_cancel_text_color="white", button_cancel_border_color="#b91c1c",
        link_text_color="*primary_700", link_text_color_visited="*primary_800",
        link_text_color_dark="*primary_300", link_text_color_visited_dark="*primary_300")
