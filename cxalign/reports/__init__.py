"""Reports: dashboard view-model, server-side SVG charts and PDF rendering."""
