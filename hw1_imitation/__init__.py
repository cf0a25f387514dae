"""Homework 1: imitation learning, and control as inference on tabular MDPs."""
