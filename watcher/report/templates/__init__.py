"""Jinja2 templates of the report formats (a package so `*.j2` ships as package data)."""
