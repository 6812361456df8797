"""Environments the RL models train on (gymnasium API)."""

import gymnasium

from .maze import ACTIONS, CHANNELS, DEFAULT_LAYOUT, MAZE_ID, MazeEnv

__all__ = ["ACTIONS", "CHANNELS", "DEFAULT_LAYOUT", "MAZE_ID", "MazeEnv"]

if MAZE_ID not in gymnasium.registry:  # gymnasium.make("webnets/Maze-v0") after `import models.envs`
    gymnasium.register(MAZE_ID, entry_point="models.envs.maze:MazeEnv")
