"""Environments the RL models train on (gymnasium API)."""

from .maze import ACTIONS, CHANNELS, DEFAULT_LAYOUT, MazeEnv

__all__ = ["ACTIONS", "CHANNELS", "DEFAULT_LAYOUT", "MazeEnv"]

import gymnasium

MAZE_ID = "webnets/Maze-v0"
if MAZE_ID not in gymnasium.registry:  # gymnasium.make("webnets/Maze-v0") after `import models.envs`
    gymnasium.register(MAZE_ID, entry_point="models.envs.maze:MazeEnv")
