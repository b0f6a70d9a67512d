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
.timeline-figure{margin:0;overflow-x:auto}
.timeline-figure figcaption{font-size:.9rem;opacity:.9;margin-top:.2rem}
.timeline-svg{display:block;width:100%;min-width:760px;height:auto;color:var(--body-text-color);font-family:var(--font)}
.timeline-svg text{fill:currentColor;font-size:14px}
.timeline-svg .lane{fill:var(--body-text-color);opacity:.05}
.timeline-svg .lane-line,.timeline-svg .tick{stroke:var(--body-text-color);opacity:.25}
.timeline-svg .tick.minor{opacity:.5}
.timeline-svg .axis{stroke:var(--body-text-color);opacity:.7}
.timeline-svg .tick-label{text-anchor:middle;font-size:13px}
.timeline-svg .tick-label.top{font-size:12px;opacity:.85}
.timeline-svg .period{fill:#2563eb;opacity:.08}
.timeline-svg .period-label{font-size:12px;font-style:italic}
.timeline-svg .swatch{stroke:var(--body-text-color);stroke-width:.8}
.timeline-svg a.event circle{stroke:var(--body-text-color);stroke-width:1;cursor:pointer}
.timeline-svg a.event:hover circle,.timeline-svg a.event:focus-visible circle,.timeline-svg a.event.selected circle{
  stroke:#b45309;stroke-width:3.5}
.timeline-svg a.event:focus{outline:none}
.timeline-svg .incident line{stroke:#b91c1c;stroke-width:2.5;stroke-dasharray:7 4}
.timeline-svg .incident text{fill:#b91c1c;font-weight:700;font-size:14px}
.dark .timeline-svg .incident text{fill:#fca5a5}
.dark .timeline-svg .incident line{stroke:#f87171}
table.documents.timeline-table th,table.documents.timeline-table td{overflow-wrap:normal;hyphens:auto}
table.documents.timeline-table td.text{overflow-wrap:anywhere;min-width:10rem}
button.timeline-show{white-space:normal;min-width:5.5rem}
.timeline-unstated{margin:.4rem 0}
.timeline-unstated summary{cursor:pointer;font-weight:600;padding:.3rem .4rem}
.timeline-unstated summary:focus-visible{outline:3px solid #b45309}
#findings-detail .finding .polarity{display:inline-block;margin:.5rem 0 -.3rem;font-size:.78rem;font-weight:600;
  text-transform:uppercase;letter-spacing:.02em;padding:0 .3em;border-radius:3px;border:1px solid currentColor}
#findings-detail .finding.weakness .polarity{color:#9a3412}
#findings-detail .finding.strength .polarity{color:#166534}
.dark #findings-detail .finding.weakness .polarity{color:#fdba74}
.dark #findings-detail .finding.strength .polarity{color:#86efac}
#findings-detail details.more>summary{cursor:pointer;font-weight:600;margin:.5rem 0}
#findings-table{max-width:100%;overflow-x:auto}
.timeline-table-wrap{max-height:34rem;overflow:auto;border:1px solid var(--border-color-primary);border-radius:6px}
.timeline-table-wrap:focus-visible{outline:3px solid #b45309}
.timeline-table caption{padding:.3rem .4rem}
.timeline-table thead th{position:sticky;top:0;background:var(--background-fill-primary);z-index:1}
.timeline-table tr.incident td{font-weight:600}
.timeline-table tr:has(.selected) td,.timeline-table tr:target td{background:#fff7d6;color:#111}
.timeline-table tr:has(.selected) button.timeline-show{color:#1e3a8a}
button.timeline-show{text-decoration:underline;color:var(--link-text-color);text-align:left;cursor:pointer;padding:0}
button.timeline-show.selected{font-weight:700}
button.timeline-show:focus-visible{outline:3px solid #b45309;outline-offset:2px}
.compare-category{border-top:1px solid var(--border-color-primary);margin-top:.6rem;padding-top:.3rem}
.compare-category h4{margin:.2rem 0}
.compare-cols{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.compare-col h5{margin:.2rem 0;font-size:.95rem}
.compare-col .counts,.compare-col .none{font-size:.88rem;opacity:.9;margin:.1rem 0}
.compare-col ul{margin:.2rem 0 .2rem 1rem;padding:0}
.compare-col li{margin:.25rem 0;overflow-wrap:anywhere}
.compare .polarity{font-size:.78rem;font-weight:600;text-transform:uppercase;letter-spacing:.02em;padding:0 .3em;
  border-radius:3px;border:1px solid currentColor}
.compare li.weakness .polarity{color:#9a3412}
.compare li.strength .polarity{color:#166534}
.dark .compare li.weakness .polarity{color:#fdba74}
.dark .compare li.strength .polarity{color:#86efac}
table.compare-counts{max-width:60rem}
footer .show-api,footer .settings,footer a,footer .divider,.upload-container .or{color:#4b5563 !important}
.dark footer .show-api,.dark footer .settings,.dark footer a,.dark footer .divider,.dark .upload-container .or{
  color:#d1d5db !important}
.phone-sources{display:none;margin-top:.5rem}
.phone-sources>summary{cursor:pointer;font-weight:600;padding:.2rem 0}
.phone-sources>summary:focus-visible{outline:3px solid #b45309}
@media (max-width:640px){
  .sources{max-height:none}
  .phone-sources{display:block}
  #sources{display:none}
  #chat{height:min(36vh,320px) !important}
  #latent-header h1{font-size:1.4rem}
  #latent-header p{font-size:.9rem;line-height:1.3}
  .privacy{padding:.3rem .6rem;font-size:.85rem}
  .timeline-svg{min-width:0}
  #documents-list th:nth-child(6),#documents-list td:nth-child(6){display:none}
  .compare-cols{grid-template-columns:1fr}
}
"""

# Gradio 6 labels each chat message with its raw content (aria-label="bot's message: <div class=…"), so a screen
# reader would spell out our markup; the message's own text is what should be read. Drop those labels whenever
# Gradio sets them.
PAGE_JS = """() => {
  // The upload area too: its label ("Click to upload…") differs from the text it shows (WCAG 2.5.3).
  const clean = () => document.querySelectorAll('[data-testid="bot"][aria-label], [data-testid="user"][aria-label], '
    + 'button.upload-container[aria-label]').forEach((e) => e.removeAttribute('aria-label'));
  new MutationObserver(clean).observe(document.body,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['aria-label']});
  clean();
  // On a phone the Sources panel is hidden and each answer carries its own cards (cards.phone_sources_html):
  // a citation there opens its answer's cards and scrolls to the one it names.
  document.addEventListener('click', (event) => {
    const link = event.target.closest('#chat a[href^="#source-"]');
    if (!link || !window.matchMedia('(max-width: 640px)').matches) return;
    const card = document.getElementById('phone-' + link.hash.slice(1));
    if (!card) return;
    event.preventDefault();
    card.closest('details').open = true;
    // The chat scrolls itself to its end when its content grows; scroll to the card again once that has run.
    card.scrollIntoView({block: 'start'});
    setTimeout(() => card.scrollIntoView({block: 'start'}), 200);
    card.querySelector('a')?.focus({preventScroll: true});
  });
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
