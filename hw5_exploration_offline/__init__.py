"""Homework 5: exploration (Random Network Distillation) and offline RL on PointMass mazes.

Importing hw5_exploration_offline.pointmass registers the homework's mazes with Gymnasium.
"""
