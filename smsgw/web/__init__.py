"""HTTP on plain :mod:`twisted.web`: JSON resources shared by the SP API and the
simulator's control API (DESIGN.md §4.3, §4.4; STYLE.md §5)."""
