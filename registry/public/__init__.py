"""Public pages: home, the list of initiatives, detail pages, privacy and language switch."""
