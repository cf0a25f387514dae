"""Homework 4: model-based RL (learned dynamics ensembles, planning with MPC, MBPO).

Importing hw4_model_based.envs registers the homework's environments with Gymnasium.
"""
