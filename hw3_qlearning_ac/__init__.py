"""Homework 3: Q-learning (DQN, double DQN, soft Q-learning, pixels) and actor-critic (SAC).

Other homeworks import the reference agents from here, e.g.
`from hw3_qlearning_ac.dqn import DQNAgent, DQNConfig`.
"""
