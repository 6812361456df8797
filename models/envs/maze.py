"""A small grid maze with the gymnasium API, observed as an image-like grid.

The layout is fixed (drawn below and exposed as `MazeEnv.layout`, so the
browser can draw it); each episode starts on a random free cell, and the agent
must walk to the goal. Observations are (H, W, 3) float32 planes of 0/1:
channel 0 marks walls, channel 1 the agent, channel 2 the goal.
"""

import gymnasium as gym
import numpy as np
from gymnasium import spaces

# '#' wall, '.' free, 'G' goal. The outer ring is wall, so every move stays on the grid.
DEFAULT_LAYOUT = (
    "#########",
    "#.....#.#",
    "#.###.#.#",
    "#.#...#.#",
    "#.#.###.#",
    "#...#...#",
    "###.#.#.#",
    "#.....#G#",
    "#########",
)

MAZE_ID = "webnets/Maze-v0"  # registered with gymnasium by models/envs/__init__.py
ACTIONS = ("up", "down", "left", "right")
MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))  # (d_row, d_col) per action, in ACTIONS order
# The observation's planes, in channel order: a plane marks the cells showing a layout symbol,
# or (None) the agent's cell. The env builds its observations from this table and meta.json
# carries it, so the browser encodes observations from the same data.
PLANES = (("wall", "#"), ("agent", None), ("goal", "G"))
CHANNELS = tuple(name for name, _ in PLANES)
WALL, AGENT, GOAL = (CHANNELS.index(name) for name in ("wall", "agent", "goal"))


class MazeEnv(gym.Env):
    """Walk from a random free cell to the goal.

    Args:
        layout: rows of '#', '.', and one 'G'.
        goal_reward: reward of the step that reaches the goal (the episode then terminates).
        step_cost: subtracted on every other step, including moves into a wall
            (which leave the agent where it is).
        max_episode_steps: the time limit; the step that reaches it is truncated.

    Observation: float32 (H, W, 3) of 0/1 planes: walls, agent, goal.
    Actions: Discrete(4): 0 up, 1 down, 2 left, 3 right.
    reset(options={"start": (row, col)}) starts on a given free cell instead of a random one.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, layout=DEFAULT_LAYOUT, goal_reward=1.0, step_cost=0.01, max_episode_steps=100,
                 render_mode=None):
        self.layout = tuple(layout)
        grid = np.array([list(row) for row in self.layout])
        if grid.ndim != 2 or (grid == "G").sum() != 1 or not set(grid.ravel()) <= {"#", ".", "G"}:
            raise ValueError("layout: equal-length rows of '#', '.' and exactly one 'G'")
        self.walls = grid == "#"
        self.goal = tuple(int(i) for i in np.argwhere(grid == "G")[0])
        self.free_cells = [tuple(int(i) for i in cell) for cell in np.argwhere(grid == ".")]
        self.goal_reward = float(goal_reward)
        self.step_cost = float(step_cost)
        self.max_episode_steps = int(max_episode_steps)
        self.render_mode = render_mode
        height, width = self.walls.shape
        self.observation_space = spaces.Box(0.0, 1.0, (height, width, len(CHANNELS)), np.float32)
        self.action_space = spaces.Discrete(len(ACTIONS))
        self._base = np.zeros(self.observation_space.shape, np.float32)
        for channel, (_, symbol) in enumerate(PLANES):
            if symbol is not None:
                self._base[..., channel] = grid == symbol
        self.agent = self.free_cells[0]
        self.elapsed = 0

    def observation(self):
        obs = self._base.copy()
        obs[self.agent + (AGENT,)] = 1.0
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        start = (options or {}).get("start")
        if start is None:
            start = self.free_cells[self.np_random.integers(len(self.free_cells))]
        start = tuple(int(i) for i in start)
        if start not in self.free_cells:
            raise ValueError(f"start {start} is not a free cell of the maze")
        self.agent, self.elapsed = start, 0
        return self.observation(), {"agent": self.agent}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not in {self.action_space}")
        d_row, d_col = MOVES[int(action)]
        target = (self.agent[0] + d_row, self.agent[1] + d_col)
        if not self.walls[target]:
            self.agent = target
        self.elapsed += 1
        terminated = self.agent == self.goal
        reward = self.goal_reward if terminated else -self.step_cost
        truncated = not terminated and self.elapsed >= self.max_episode_steps
        return self.observation(), reward, terminated, truncated, {"agent": self.agent}

    def render(self):
        if self.render_mode != "ansi":
            return None
        rows = [list(row) for row in self.layout]
        rows[self.agent[0]][self.agent[1]] = "A"
        return "\n".join("".join(row) for row in rows)

    def shortest_distances(self):
        """{cell: fewest moves to the goal} by breadth-first search (for tests and the demo)."""
        distances, frontier = {self.goal: 0}, [self.goal]
        while frontier:
            nxt = []
            for row, col in frontier:
                for d_row, d_col in MOVES:
                    cell = (row + d_row, col + d_col)
                    if not self.walls[cell] and cell not in distances:
                        distances[cell] = distances[(row, col)] + 1
                        nxt.append(cell)
            frontier = nxt
        return distances

    def describe(self):
        """The environment as meta.json's preprocessing entry describes it to the browser."""
        return {
            "environment": MAZE_ID,
            "layout": list(self.layout),
            "legend": {"#": "wall", ".": "free", "G": "goal"},
            "channels": list(CHANNELS),
            # Channel k of the float32 0/1 observation [rows, cols, channels] is 1 on the cells showing
            # planes[k]["symbol"], or on the agent's cell where the symbol is null.
            "planes": [{"name": name, "symbol": symbol} for name, symbol in PLANES],
            "goal": list(self.goal),
            "start": "a uniformly random free cell ('.'), never a wall or the goal",
            "actions": list(ACTIONS),
            "moves": {name: list(move) for name, move in zip(ACTIONS, MOVES)},
            "rules": "a move into a wall leaves the agent where it is",
            "rewards": {"goal": self.goal_reward, "step": -self.step_cost},
            "max_episode_steps": self.max_episode_steps,
        }
