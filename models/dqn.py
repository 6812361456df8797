"""Deep Q-Networks (Mnih et al., "Human-level control through deep reinforcement
learning", Nature 2015): experience replay, a target network, epsilon-greedy
exploration, action repeat (frame skipping) and Huber-loss Q-learning updates.

Presets:
- paper: the Nature DQN Q-network, 84x84x4 stacked frames -> 6 actions (Pong's
  action set), 1,687,206 parameters. It takes raw 0..255 luminance and scales it
  to 0..1 inside the network (a parameter-free Rescaling layer).
- demo: a small convolutional Q-network on the maze grid of `models.envs.MazeEnv`
  (9x9x3 planes: walls, agent, goal) -> Q-values of up/down/left/right. It is
  trained here and shipped to the browser.

`train` also trains a second agent, an MLP Q-network on gymnasium's CartPole-v1,
returned as the extra model "dqn_cartpole".

The training loop is written out (no Keras fit): each agent decision is repeated
`action_repeat` environment steps, `gradient_steps` replay updates run every
`train_every` decisions in a tf.function, and the target network is copied from
the online one every `target_update` updates. The agent is evaluated greedily
every `eval_every` decisions and the best snapshot is kept (a guard against DQN's
well-known late collapses); training stops early once the periodic evaluation
reaches `target_score`.
"""

import dataclasses
import time

import gymnasium as gym
import numpy as np

from .base import TrainResult, ZooModel
from .envs import ACTIONS, MazeEnv
from .training import SEED, release_from_cluster, set_seeds, strategy_scope, worker_failures
from .zoo import register_model

NATURE_INPUT = (84, 84, 4)
NATURE_ACTIONS = 6  # Pong: NOOP, FIRE, RIGHT, LEFT, RIGHTFIRE, LEFTFIRE
CARTPOLE_ID = "CartPole-v1"
CARTPOLE_LABELS = ["push_left", "push_right"]


# --- Q-networks ------------------------------------------------------------------------

def nature_q_network(input_shape=NATURE_INPUT, num_actions=NATURE_ACTIONS, name="dqn_nature"):
    """The Nature DQN: 3 convolutions and a 512-unit hidden layer, one linear Q-value per action.

    Input shape: (batch, 84, 84, 4) raw 0..255 luminance of the last 4 frames.
    Output shape: (batch, num_actions) Q-values.
    """
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(input_shape, name="frames"),
        layers.Rescaling(1.0 / 255.0, name="scale"),
        layers.Conv2D(32, 8, strides=4, activation="relu", name="conv1"),
        layers.Conv2D(64, 4, strides=2, activation="relu", name="conv2"),
        layers.Conv2D(64, 3, strides=1, activation="relu", name="conv3"),
        layers.Flatten(name="flatten"),
        layers.Dense(512, activation="relu", name="fc"),
        layers.Dense(num_actions, name="q_values"),
    ], name=name)


def maze_q_network(input_shape=None, num_actions=len(ACTIONS), filters=(16, 32), hidden=128, name="dqn_maze"):
    """A small conv Q-network for the maze grid: two 3x3 'same' convolutions keep the grid's
    geometry (where the agent is relative to walls and goal), then a dense layer per cell layout.

    Input shape: (batch, rows, cols, 3) 0/1 planes (walls, agent, goal).
    Output shape: (batch, 4) Q-values of up, down, left, right.
    """
    import keras
    from keras import layers

    input_shape = input_shape or MazeEnv().observation_space.shape
    x = inputs = keras.Input(input_shape, name="observation")
    for i, width in enumerate(filters, 1):
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(hidden, activation="relu", name="fc")(x)
    return keras.Model(inputs, layers.Dense(num_actions, name="q_values")(x), name=name)


def cartpole_q_network(obs_dim=4, num_actions=2, hidden=(256, 256), name="dqn_cartpole"):
    """An MLP Q-network for CartPole's 4 state numbers (cart position, velocity, pole angle, angular velocity).

    Input shape: (batch, 4). Output shape: (batch, 2) Q-values of push left, push right.
    """
    import keras
    from keras import layers

    x = inputs = keras.Input((obs_dim,), name="observation")
    for i, width in enumerate(hidden, 1):
        x = layers.Dense(width, activation="relu", name=f"fc{i}")(x)
    return keras.Model(inputs, layers.Dense(num_actions, name="q_values")(x), name=name)


# --- DQN parts -------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DQNConfig:
    """Hyper-parameters of one DQN agent. Steps count agent decisions (each repeated
    `action_repeat` times in the environment); `target_update` counts updates."""

    total_steps: int
    buffer_size: int = 50_000
    batch_size: int = 64
    gamma: float = 0.99
    learning_rate: float = 5e-4
    learning_starts: int = 1_000
    train_every: int = 1
    gradient_steps: int = 1  # updates each time training runs
    target_update: int = 500
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_steps: int = 10_000
    action_repeat: int = 1
    reward_clip: float = 1.0  # the paper clips rewards to [-1, 1]
    huber_delta: float = 1.0  # the paper clips the TD error to [-1, 1]: the Huber loss' gradient
    grad_clip_norm: float = 10.0
    eval_every: int = 5_000
    eval_episodes: int = 10
    target_score: float = None  # stop once a periodic evaluation scores at least this


class ReplayBuffer:
    """A fixed-size ring of transitions (obs, action, reward, next_obs, terminated), sampled uniformly.

    `terminated` (not `truncated`) ends bootstrapping: a time-limit cut still has a future.
    """

    def __init__(self, capacity, obs_shape, obs_dtype=np.float32, seed=SEED):
        self.capacity = int(capacity)
        self.obs = np.zeros((self.capacity, *obs_shape), obs_dtype)
        self.next_obs = np.zeros_like(self.obs)
        self.actions = np.zeros(self.capacity, np.int32)
        self.rewards = np.zeros(self.capacity, np.float32)
        self.terminated = np.zeros(self.capacity, np.float32)
        self.position = 0
        self.size = 0
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return self.size

    def add(self, obs, action, reward, next_obs, terminated):
        i = self.position
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminated[i] = next_obs, float(terminated)
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size):
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        index = self.rng.integers(0, self.size, batch_size)
        return (self.obs[index], self.actions[index], self.rewards[index], self.next_obs[index],
                self.terminated[index])


class LinearSchedule:
    """epsilon(t): `start` at t=0, linearly down to `end` at t=`steps`, then constant."""

    def __init__(self, start, end, steps):
        self.start, self.end, self.steps = float(start), float(end), max(int(steps), 1)

    def __call__(self, t):
        return self.end + (self.start - self.end) * max(0.0, 1.0 - t / self.steps)


class ActionRepeat(gym.Wrapper):
    """Frame skipping: each action is repeated `repeat` times, the rewards summed; an episode
    end stops the repetition early."""

    def __init__(self, env, repeat):
        super().__init__(env)
        if repeat < 1:
            raise ValueError("action repeat must be >= 1")
        self.repeat = int(repeat)

    def step(self, action):
        total = 0.0
        for _ in range(self.repeat):
            obs, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            if terminated or truncated:
                break
        return obs, total, terminated, truncated, info


def action_repeat(env, repeat):
    """`env` with each action repeated `repeat` times (returned as is for repeat=1)."""
    return env if repeat == 1 else ActionRepeat(env, repeat)


def greedy_episodes(q_values, envs, seed, options=None):
    """Run one greedy episode in each env, all in lockstep with one batched Q-network call per step.

    q_values: obs batch -> Q-value batch. options: per-env reset options (or None).
    Returns (returns, terminated, lengths) arrays, one entry per env.
    """
    n = len(envs)
    options = options or [None] * n
    obs = np.stack([env.reset(seed=seed + i, options=options[i])[0] for i, env in enumerate(envs)])
    returns, lengths = np.zeros(n), np.zeros(n, np.int64)
    terminated, done = np.zeros(n, bool), np.zeros(n, bool)
    while not done.all():
        active = np.flatnonzero(~done)
        actions = np.argmax(q_values(obs[active]), axis=-1)
        for i, action in zip(active, actions):
            obs[i], reward, term, trunc, _ = envs[i].step(int(action))
            returns[i] += reward
            lengths[i] += 1
            if term or trunc:
                done[i], terminated[i] = True, term
    return returns, terminated, lengths


class DQNAgent:
    """Online Q-network + target network + replay buffer + epsilon-greedy behaviour policy.

    Args:
        q_network: the online keras.Model (trained in place); the target network is a clone.
        config: DQNConfig.
        strategy: optional tf.distribute strategy; q_network must have been built in its scope.
        seed: seeds the replay sampling and exploration.
    """

    def __init__(self, q_network, config, strategy=None, seed=SEED):
        import keras
        import tensorflow as tf

        self.online, self.config, self.strategy = q_network, config, strategy
        self.num_actions = int(q_network.output_shape[-1])
        self.obs_shape = tuple(q_network.input_shape[1:])
        with strategy_scope(strategy):
            self.target = keras.models.clone_model(q_network)
            self.target.set_weights(q_network.get_weights())
            self.optimizer = keras.optimizers.Adam(config.learning_rate, clipnorm=config.grad_clip_norm)
            self.optimizer.build(self.online.trainable_variables)
        self.rng = np.random.default_rng(seed)
        self.epsilon = LinearSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_steps)
        self.updates = 0
        spec = tf.TensorSpec((None, *self.obs_shape), tf.float32)
        batch_spec = (spec, tf.TensorSpec((None,), tf.int32), tf.TensorSpec((None,), tf.float32), spec,
                      tf.TensorSpec((None,), tf.float32))
        self._q_values = tf.function(lambda obs: self.online(obs, training=False), input_signature=[spec])
        self._update = tf.function(self._distributed_update, input_signature=batch_spec)
        self._loss = tf.function(self.td_loss, input_signature=batch_spec)

    # The Q-learning target uses the frozen target network: y = r + gamma * max_a' Q_target(s', a').
    def td_loss(self, obs, actions, rewards, next_obs, terminated):
        """Mean Huber loss between Q(s, a) and the one-step Q-learning target."""
        import tensorflow as tf

        next_q = self.target(next_obs, training=False)
        target = rewards + self.config.gamma * (1.0 - terminated) * tf.reduce_max(next_q, axis=-1)
        q_taken = tf.gather(self.online(obs, training=True), actions, axis=1, batch_dims=1)
        error = tf.stop_gradient(target) - q_taken
        delta = self.config.huber_delta
        quadratic = tf.minimum(tf.abs(error), delta)
        return tf.reduce_mean(0.5 * quadratic ** 2 + delta * (tf.abs(error) - quadratic))

    def _step(self, obs, actions, rewards, next_obs, terminated):
        import tensorflow as tf

        replicas = self.strategy.num_replicas_in_sync if self.strategy is not None else 1
        with tf.GradientTape() as tape:
            loss = self.td_loss(obs, actions, rewards, next_obs, terminated)
            scaled = loss / replicas  # every replica sees the whole batch; gradients are summed
        grads = tape.gradient(scaled, self.online.trainable_variables)
        self.optimizer.apply(grads, self.online.trainable_variables)
        return loss

    def _distributed_update(self, *batch):
        if self.strategy is None:
            return self._step(*batch)
        import tensorflow as tf

        losses = self.strategy.run(self._step, args=batch)
        return self.strategy.reduce(tf.distribute.ReduceOp.MEAN, losses, axis=None)

    def q_values(self, obs):
        return self._q_values(np.asarray(obs, np.float32)).numpy()

    def act(self, obs, epsilon):
        """Epsilon-greedy: a uniformly random action with probability epsilon, else argmax Q."""
        if self.rng.random() < epsilon:
            return int(self.rng.integers(self.num_actions))
        return int(np.argmax(self.q_values(obs[None])[0]))

    def loss(self, batch):
        return float(self._loss(*batch))

    def update(self, batch):
        """One gradient step on a replay batch; copies online -> target every `target_update` updates."""
        loss = float(self._update(*batch))
        self.updates += 1
        if self.updates % self.config.target_update == 0:
            self.sync_target()
        return loss

    def sync_target(self):
        for target, online in zip(self.target.weights, self.online.weights):
            target.assign(online)

    def train(self, env, *, evaluate=None, log=print, desc="dqn"):
        """Run the DQN loop for config.total_steps agent steps in `env` (wrapped for action repeat).

        evaluate: q_values -> (score, info dict), called every `eval_every` steps and at the end;
            the best-scoring weights are kept in the online network.
        Returns a dict of histories: episode_returns, losses, evaluations, steps, seconds.
        """
        from tqdm.auto import tqdm

        cfg = self.config
        env = action_repeat(env, cfg.action_repeat)
        buffer = ReplayBuffer(cfg.buffer_size, self.obs_shape, seed=int(self.rng.integers(2**31)))
        history = {"episode_returns": [], "losses": [], "evaluations": []}
        best_score, best_weights = -np.inf, None
        started = time.perf_counter()
        obs, _ = env.reset(seed=int(self.rng.integers(2**31)))
        episode_return, step = 0.0, 0
        # disable=None: a live bar on a terminal, none in CI logs (the evaluations are logged).
        bar = tqdm(total=cfg.total_steps, desc=desc, mininterval=2.0, leave=False, disable=None)

        def run_evaluation():
            nonlocal best_score, best_weights
            score, info = evaluate(self.q_values)
            history["evaluations"].append({"step": step, "score": float(score), **info})
            if score > best_score:
                best_score, best_weights = score, self.online.get_weights()
            log(f"{desc}: step {step:,} epsilon {self.epsilon(step):.3f} updates {self.updates:,} "
                f"eval score {score:.3f} (best {best_score:.3f}) {info}")
            return cfg.target_score is not None and score >= cfg.target_score

        for step in range(1, cfg.total_steps + 1):
            action = self.act(obs, self.epsilon(step))
            next_obs, reward, terminated, truncated, _ = env.step(action)
            clipped = float(np.clip(reward, -cfg.reward_clip, cfg.reward_clip)) if cfg.reward_clip else reward
            buffer.add(obs, action, clipped, next_obs, terminated)
            episode_return += reward
            obs = next_obs
            if terminated or truncated:
                history["episode_returns"].append(episode_return)
                obs, _ = env.reset()
                episode_return = 0.0
            if step >= cfg.learning_starts and step % cfg.train_every == 0:
                for _ in range(cfg.gradient_steps):
                    loss = self.update(buffer.sample(cfg.batch_size))
                    if not np.isfinite(loss):
                        raise FloatingPointError(f"{desc}: the Q-learning loss became {loss} at update {self.updates}")
                    history["losses"].append(loss)
            bar.update(1)
            if step % 500 == 0 and history["losses"]:
                recent = history["episode_returns"][-20:]
                bar.set_postfix(eps=f"{self.epsilon(step):.2f}", ret=f"{np.mean(recent) if recent else 0:.2f}",
                                loss=f"{np.mean(history['losses'][-500:]):.4f}", refresh=False)
            if evaluate is not None and step >= cfg.learning_starts and step % cfg.eval_every == 0:
                if run_evaluation():
                    break
        bar.close()
        if evaluate is not None and (not history["evaluations"] or history["evaluations"][-1]["step"] != step):
            run_evaluation()
        if best_weights is not None:
            self.online.set_weights(best_weights)
        history["steps"], history["seconds"] = step, time.perf_counter() - started
        history["replay_size"] = len(buffer)
        return history


# --- environments and evaluation -------------------------------------------------------

def make_cartpole(action_repeat_k=1):
    return action_repeat(gym.make(CARTPOLE_ID), action_repeat_k)


def evaluate_maze(q_values, episodes=100, seed=20_000):
    """Greedy episodes from random start cells: (success rate, mean return)."""
    returns, reached, _ = greedy_episodes(q_values, [MazeEnv() for _ in range(episodes)], seed)
    return float(np.mean(reached)), float(np.mean(returns))


def evaluate_maze_all_starts(q_values):
    """Greedy episodes from every free cell: score = mean return (the optimum is known from BFS)."""
    env = MazeEnv()
    returns, reached, _ = greedy_episodes(q_values, [MazeEnv() for _ in env.free_cells], 0,
                                          options=[{"start": cell} for cell in env.free_cells])
    return float(np.mean(returns)), {"success": round(float(np.mean(reached)), 3)}


def optimal_maze_return(env=None):
    """The mean return of shortest paths from every free cell: the best any policy can score."""
    env = env or MazeEnv()
    distance = env.shortest_distances()
    return float(np.mean([env.goal_reward - env.step_cost * (distance[c] - 1) for c in env.free_cells]))


def evaluate_cartpole(q_values, episodes=100, seed=30_000, action_repeat_k=1):
    returns, _, _ = greedy_episodes(q_values, [make_cartpole(action_repeat_k) for _ in range(episodes)], seed)
    return float(np.mean(returns))


def _smooth(values, window):
    values = np.asarray(values, np.float64)
    if len(values) < window:
        return values.tolist()
    return np.convolve(values, np.ones(window) / window, mode="valid")[::max(window // 4, 1)].tolist()


# --- the zoo entry ---------------------------------------------------------------------

# The maze agent follows the paper's schedule shape (an update every 4 steps, epsilon
# annealed 1 -> 0.05, hard target copies), scaled down to a 31-cell state space.
MAZE_CONFIG = DQNConfig(
    total_steps=60_000, buffer_size=50_000, batch_size=64, gamma=0.99, learning_rate=5e-4,
    learning_starts=1_000, train_every=4, target_update=250, epsilon_steps=10_000,
    eval_every=2_500, target_score=optimal_maze_return() - 1e-6)
# CartPole: rl-baselines3-zoo's tuned DQN schedule (bursts of 128 updates every 256 steps,
# the target copied after each burst) with the paper's frame skipping at k=2 (the pole's
# 20 ms physics step is finer than control needs); it reached 500 from three seeds in
# < 22k decisions here. The maze keeps k=1: a repeated move would skip over cells.
CARTPOLE_CONFIG = DQNConfig(
    total_steps=100_000, buffer_size=100_000, batch_size=64, gamma=0.99, learning_rate=2.3e-3,
    learning_starts=1_000, train_every=256, gradient_steps=128, target_update=128,
    epsilon_end=0.04, epsilon_steps=8_000, action_repeat=2, eval_every=1_024, eval_episodes=20,
    target_score=500.0)
# CI: a few hundred steps and updates of both agents, enough to run every code path.
QUICK = {"total_steps": 400, "learning_starts": 100, "train_every": 1, "gradient_steps": 1, "target_update": 50,
         "epsilon_steps": 300, "eval_every": 200, "eval_episodes": 3, "buffer_size": 1_000}


@register_model
class DQN(ZooModel):
    name = "dqn"
    display_name = "DQN (maze)"
    family = "dqn"
    task = "reinforcement-learning"
    dataset = "maze (webnets gymnasium env) + CartPole-v1"
    params_paper = 1_687_206
    params_demo = 337_508
    metric_keys = ("success_rate", "mean_return")
    listed_metric_keys = ("cartpole_mean_return",)
    maze_config = MAZE_CONFIG
    cartpole_config = CARTPOLE_CONFIG

    def build(self, preset="demo", **overrides):
        set_seeds()
        return nature_q_network(**overrides) if preset == "paper" else maze_q_network(**overrides)

    @property
    def extra_io_specs(self):
        """io_spec() of the extra models train() returns, by name (the CartPole agent)."""
        return {"dqn_cartpole": cartpole_io_spec()}

    def build_cartpole(self, **overrides):
        set_seeds()
        return cartpole_q_network(**overrides)

    def train(self, model, *, strategy=None, quick=False, log=print):
        expected = MazeEnv().observation_space.shape
        if tuple(model.input_shape[1:]) != expected:
            raise ValueError(f"DQN trains the maze Q-network (input {expected}); got a model with input "
                             f"{model.input_shape[1:]}. Build it with build('demo'); the paper preset is "
                             "architecture only (there is no Atari emulator offline).")
        maze_cfg, cart_cfg = self.maze_config, self.cartpole_config
        if quick:
            maze_cfg, cart_cfg = dataclasses.replace(maze_cfg, **QUICK), dataclasses.replace(cart_cfg, **QUICK)

        set_seeds()
        maze_agent = DQNAgent(model, maze_cfg, strategy=strategy, seed=SEED)
        with worker_failures(strategy):
            maze = maze_agent.train(MazeEnv(), evaluate=evaluate_maze_all_starts, log=log, desc="dqn maze")
        metrics = self.evaluate(model, quick=quick)

        set_seeds()
        with strategy_scope(strategy):
            cartpole_model = self.build_cartpole()
        cart_agent = DQNAgent(cartpole_model, cart_cfg, strategy=strategy, seed=SEED + 1)
        episodes = cart_cfg.eval_episodes
        with worker_failures(strategy):
            cart = cart_agent.train(
                make_cartpole(), log=log, desc="dqn cartpole",
                evaluate=lambda q: (evaluate_cartpole(q, episodes, seed=40_000,
                                                      action_repeat_k=cart_cfg.action_repeat), {}))
        release_from_cluster(model)  # from here on the chief saves and exports alone
        release_from_cluster(cartpole_model)
        metrics["cartpole_mean_return"] = evaluate_cartpole(
            cart_agent.q_values, 10 if quick else 100, action_repeat_k=cart_cfg.action_repeat)
        metrics.update({
            "maze_train_seconds": maze["seconds"], "maze_steps": maze["steps"], "maze_updates": maze_agent.updates,
            "cartpole_train_seconds": cart["seconds"], "cartpole_steps": cart["steps"],
            "cartpole_updates": cart_agent.updates, "train_seconds": maze["seconds"] + cart["seconds"],
        })
        log(f"dqn: {metrics}")
        curves = {
            "maze_episode_return": _smooth(maze["episode_returns"], 20),
            "maze_loss": _smooth(maze["losses"], 200),
            "cartpole_episode_return": _smooth(cart["episode_returns"], 10),
            "cartpole_loss": _smooth(cart["losses"], 200),
        }
        return TrainResult(metrics=metrics, curves=curves, losses=maze["losses"],
                           extra_models={"dqn_cartpole": cartpole_model})

    def evaluate(self, model, quick=False):
        import tensorflow as tf

        spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)
        q_values = tf.function(lambda obs: model(obs, training=False), input_signature=[spec])
        success_rate, mean_return = evaluate_maze(lambda obs: q_values(np.asarray(obs, np.float32)).numpy(),
                                                  episodes=10 if quick else 100)
        return {"success_rate": success_rate, "mean_return": mean_return}

    def io_spec(self):
        env = MazeEnv()
        rows, cols, channels = env.observation_space.shape
        return {
            "inputs": [{"name": "observation", "shape": [None, rows, cols, channels], "dtype": "float32",
                        "preprocessing": env.describe()}],
            "outputs": [{"name": "q_values", "shape": [None, len(ACTIONS)], "dtype": "float32",
                         "note": "expected discounted return of each action; the greedy policy takes the argmax"}],
            "labels": list(ACTIONS),
        }

    def golden_inputs(self, count=1):
        env = MazeEnv()
        return [np.stack([env.reset(seed=SEED + i)[0] for i in range(count)])]


def cartpole_dynamics():
    """gymnasium's CartPole-v1 constants, read from the env itself, so that the browser's simulation
    (web_demo/js/agents.js, the same Euler step) runs the physics the agent was trained on."""
    env = gym.make(CARTPOLE_ID)
    core = env.unwrapped
    dynamics = {"gravity": core.gravity, "mass_cart": core.masscart, "mass_pole": core.masspole,
                "half_pole_length": core.length, "force": core.force_mag, "tau": core.tau,
                "x_limit": core.x_threshold, "theta_limit": core.theta_threshold_radians,
                "max_episode_steps": env.spec.max_episode_steps, "integrator": core.kinematics_integrator,
                "reset_range": 0.05}
    env.close()
    return {key: float(value) if isinstance(value, (int, float)) and key != "max_episode_steps" else value
            for key, value in dynamics.items()}


def cartpole_io_spec():
    return {
        "display_name": "DQN (CartPole)",
        "inputs": [{"name": "observation", "shape": [None, 4], "dtype": "float32", "preprocessing": {
            "environment": CARTPOLE_ID,
            "features": ["cart_position", "cart_velocity", "pole_angle", "pole_angular_velocity"],
            "dynamics": cartpole_dynamics(),
            "note": "the raw gymnasium observation, no scaling"}}],
        "action_repeat": CARTPOLE_CONFIG.action_repeat,  # the agent acts on every 2nd physics step
        "outputs": [{"name": "q_values", "shape": [None, 2], "dtype": "float32"}],
        "labels": CARTPOLE_LABELS,
    }
