"""HTTP on plain :mod:`twisted.web`: JSON resources shared by the SP API and the
simulator's control API."""
