"""Astrohaven clamshell domes on RS-232: the driver and a simulator of the PLC."""
