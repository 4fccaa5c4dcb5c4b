"""The notebook document: cells and their identities."""
