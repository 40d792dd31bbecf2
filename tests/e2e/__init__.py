"""Browser end-to-end tests: the lessons and an exercise in a real JupyterLab (see README.md)."""
