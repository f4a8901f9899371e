"""The report: its rendering as table, JSON, CSV, Markdown, HTML, plots and Netron annotations."""
