"""The fake carrier ("ismg-sim"): ISMG, SMG and SMGW servers for test benches.

Its behaviour (report states and delays, faults) is :mod:`smsgw.config.policy`;
its inspection and control HTTP API is :mod:`smsgw.ismg.control`.
"""
