"""The web page, split by concern: `cards` and `export` turn answers into HTML and files (pure functions),
`session` holds what the page does (filters, feedback, uploads, the first run), `routes` serves the ingested
files, `findings` the documents × categories view and two documents side by side, `timeline` one case's
chronology as a plot and a table, `style` the theme and CSS, and `page` lays the Gradio page out and wires its
events. `assistant.app` starts it all with the privacy defaults.
"""
