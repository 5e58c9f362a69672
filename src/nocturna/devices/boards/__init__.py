"""PANOPTES sensor boards on serial lines: a weather board, the power board, their simulators."""
