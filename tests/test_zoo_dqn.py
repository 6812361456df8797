"""The "dqn" zoo entry: maze rules, the gymnasium contract, Q-network sizes, the DQN
parts (replay, epsilon, target network, the Huber Q-learning loss), a quick training
run of both agents, and TF.js parity of the two exported Q-networks."""

import warnings

import gymnasium
import numpy as np
import pytest

from exporter.parity.tolerances import FLOAT32_BOUND
from models import dqn, zoo
from models.envs import ACTIONS, DEFAULT_LAYOUT, MAZE_ID, MazeEnv

UP, DOWN, LEFT, RIGHT = range(4)


@pytest.fixture(scope="module")
def spec():
    return zoo.get("dqn")


def replay_from_maze(size, seed=0):
    """A replay buffer filled by short random walks, every other one starting beside the goal."""
    env, rng = MazeEnv(max_episode_steps=10), np.random.default_rng(seed)
    buffer = dqn.ReplayBuffer(size, env.observation_space.shape, seed=seed)
    obs, _ = env.reset(seed=seed)
    for episode in range(10**6):
        while True:
            action = int(rng.integers(4))
            next_obs, reward, terminated, truncated, _ = env.step(action)
            buffer.add(obs, action, reward, next_obs, terminated)
            obs = next_obs
            if len(buffer) == size:
                return buffer
            if terminated or truncated:
                break
        obs, _ = env.reset(options={"start": (6, 7)} if episode % 2 else None)


# --- the maze -----------------------------------------------------------------------

def test_walls_block_moves_and_cost_a_step():
    env = MazeEnv()
    env.reset(options={"start": (1, 1)})  # top-left corner: walls above and to the left
    for action in (UP, LEFT):
        obs, reward, terminated, truncated, info = env.step(action)
        assert info["agent"] == (1, 1) and obs[1, 1, 1] == 1.0
        assert reward == pytest.approx(-0.01) and not terminated and not truncated
    _, reward, _, _, info = env.step(RIGHT)
    assert info["agent"] == (1, 2) and reward == pytest.approx(-0.01)
    _, _, _, _, info = env.step(DOWN)  # (2, 2) is wall
    assert info["agent"] == (1, 2)


def test_reaching_the_goal_terminates_with_the_goal_reward():
    env = MazeEnv()
    assert env.goal == (7, 7)
    env.reset(options={"start": (5, 7)})
    _, reward, terminated, _, info = env.step(DOWN)
    assert (info["agent"], reward, terminated) == ((6, 7), pytest.approx(-0.01), False)
    obs, reward, terminated, truncated, info = env.step(DOWN)
    assert info["agent"] == env.goal and reward == 1.0 and terminated and not truncated
    assert obs[7, 7, 1] == 1.0 and obs[7, 7, 2] == 1.0


def test_time_limit_truncates():
    env = MazeEnv(max_episode_steps=5)
    env.reset(options={"start": (1, 1)})
    for step in range(1, 6):
        _, _, terminated, truncated, _ = env.step(UP)
        assert not terminated and truncated == (step == 5)
    env.reset(options={"start": (6, 7)})  # reaching the goal on the last allowed step is a termination
    for _ in range(4):
        env.step(UP if env.agent == (6, 7) else DOWN)
    _, reward, terminated, truncated, _ = env.step(DOWN)
    assert env.elapsed == 5 and terminated and not truncated and reward == 1.0


def test_observation_channels():
    env = MazeEnv()
    obs, _ = env.reset(options={"start": (3, 4)})
    assert obs.shape == (9, 9, 3) and obs.dtype == np.float32 and env.observation_space.contains(obs)
    walls = np.array([[c == "#" for c in row] for row in DEFAULT_LAYOUT], np.float32)
    np.testing.assert_array_equal(obs[..., 0], walls)
    assert obs[..., 1].sum() == 1 and obs[3, 4, 1] == 1
    assert obs[..., 2].sum() == 1 and obs[7, 7, 2] == 1
    assert set(np.unique(obs)) == {0.0, 1.0}


def test_resets_start_on_varied_free_cells_only():
    env = MazeEnv()
    starts = [env.reset(seed=seed)[1]["agent"] for seed in range(300)]
    assert all(not env.walls[s] and s != env.goal for s in starts)
    assert len(set(starts)) == len(env.free_cells) == 31  # every free cell gets used
    assert env.reset(seed=5)[1]["agent"] == env.reset(seed=5)[1]["agent"]
    with pytest.raises(ValueError, match="not a free cell"):
        env.reset(options={"start": (0, 0)})


def test_gymnasium_env_checker_passes():
    from gymnasium.utils.env_checker import check_env

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test ...
        warnings.filterwarnings("ignore", message=".*alternative render modes.*")  # ... but this one needs a spec
        check_env(MazeEnv())
    env = gymnasium.make(MAZE_ID)
    assert env.spec.id == MAZE_ID and env.action_space == gymnasium.spaces.Discrete(4)


def test_shortest_paths_reach_the_goal_with_the_optimal_return():
    env = MazeEnv()
    distance = env.shortest_distances()
    assert set(distance) == set(env.free_cells) | {env.goal}  # every free cell can reach the goal
    assert max(distance.values()) == 18

    def oracle(obs):  # Q = minus the distance after the move: greedy walks a shortest path
        q = np.zeros((len(obs), 4))
        for b, planes in enumerate(obs):
            row, col = np.argwhere(planes[..., 1] == 1)[0]
            for a, (dr, dc) in enumerate(((-1, 0), (1, 0), (0, -1), (0, 1))):
                q[b, a] = -distance.get((row + dr, col + dc), 99)
        return q

    score, info = dqn.evaluate_maze_all_starts(oracle)
    assert info["success"] == 1.0
    assert score == pytest.approx(dqn.optimal_maze_return()) == pytest.approx(0.91129, abs=1e-5)
    success, mean_return = dqn.evaluate_maze(oracle, episodes=20)
    assert success == 1.0 and 0.8 < mean_return <= 1.0
    success, mean_return = dqn.evaluate_maze(lambda obs: np.tile([1.0, 0, 0, 0], (len(obs), 1)), episodes=5)
    assert success == 0.0 and mean_return == pytest.approx(-1.0)  # always "up": 100 steps of -0.01


def test_action_repeat_repeats_and_stops_at_the_episode_end():
    env = dqn.action_repeat(MazeEnv(), 3)
    env.reset(options={"start": (1, 1)})
    _, reward, _, _, info = env.step(RIGHT)
    assert info["agent"] == (1, 4) and reward == pytest.approx(-0.03) and env.unwrapped.elapsed == 3
    env.reset(options={"start": (6, 7)})
    _, reward, terminated, _, _ = env.step(DOWN)
    assert terminated and reward == 1.0 and env.unwrapped.elapsed == 1
    assert dqn.action_repeat(env.unwrapped, 1) is env.unwrapped


# --- networks -----------------------------------------------------------------------

def test_nature_dqn_has_the_papers_shape_and_parameter_count(spec):
    model = spec.build("paper")
    assert model.count_params() == spec.params_paper == 1_687_206
    assert model.input_shape == (None, 84, 84, 4) and model.output_shape == (None, 6)
    shapes = [model.get_layer(n).output.shape[1:] for n in ("conv1", "conv2", "conv3", "fc")]
    assert shapes == [(20, 20, 32), (9, 9, 64), (7, 7, 64), (512,)]


def test_demo_parameter_count_and_io_spec(spec):
    model = spec.build("demo")
    assert model.count_params() == spec.params_demo == 337_508
    io = spec.io_spec()
    assert io["inputs"][0]["shape"] == [None, *model.input_shape[1:]] == [None, 9, 9, 3]
    assert io["outputs"][0]["shape"] == [None, *model.output_shape[1:]] == [None, 4]
    assert io["labels"] == list(ACTIONS) == ["up", "down", "left", "right"]
    pre = io["inputs"][0]["preprocessing"]
    assert pre["layout"] == list(DEFAULT_LAYOUT) and pre["goal"] == [7, 7]
    assert pre["channels"] == ["wall", "agent", "goal"] and pre["environment"] == MAZE_ID


def test_meta_planes_are_enough_to_encode_observations(spec):
    """The browser builds the maze observation from meta.json's `planes` table alone (web_demo/js/agents.js):
    that data must reproduce the env's own observations, for every start cell."""
    pre = spec.io_spec()["inputs"][0]["preprocessing"]
    env = MazeEnv()
    for start in env.free_cells:
        expected, _ = env.reset(options={"start": start})
        encoded = np.zeros(expected.shape, np.float32)
        for channel, plane in enumerate(pre["planes"]):
            if plane["symbol"] is None:
                encoded[start[0], start[1], channel] = 1.0
            else:
                encoded[..., channel] = [[c == plane["symbol"] for c in row] for row in pre["layout"]]
        np.testing.assert_array_equal(encoded, expected)
    (golden,) = spec.golden_inputs(4)
    assert golden.shape == (4, 9, 9, 3) and golden.dtype == np.float32
    assert all(g[..., 1].sum() == 1 and MazeEnv().observation_space.contains(g) for g in golden)
    assert spec.build_cartpole().count_params() == 4 * 256 + 256 + 256 * 256 + 256 + 256 * 2 + 2


# --- DQN parts ----------------------------------------------------------------------

def test_replay_buffer_wraps_around_and_samples_stored_transitions():
    buffer = dqn.ReplayBuffer(5, (2,), seed=0)
    with pytest.raises(ValueError):
        buffer.sample(1)
    for i in range(8):
        buffer.add(np.full(2, i), i % 4, float(i), np.full(2, i + 1), i == 7)
    assert len(buffer) == 5 and buffer.position == 3
    assert sorted(buffer.rewards.tolist()) == [3.0, 4.0, 5.0, 6.0, 7.0]  # the oldest three were overwritten
    obs, actions, rewards, next_obs, terminated = buffer.sample(64)
    assert obs.shape == (64, 2) and actions.dtype == np.int32 and terminated.dtype == np.float32
    np.testing.assert_array_equal(obs[:, 0], rewards)  # rows stay aligned
    np.testing.assert_array_equal(next_obs[:, 0], rewards + 1)
    np.testing.assert_array_equal(terminated, rewards == 7)
    assert set(rewards.tolist()) == {3.0, 4.0, 5.0, 6.0, 7.0}
    again = dqn.ReplayBuffer(5, (2,), seed=0)
    for i in range(8):
        again.add(np.full(2, i), i % 4, float(i), np.full(2, i + 1), i == 7)
    np.testing.assert_array_equal(again.sample(64)[2], rewards)  # seeded


def test_epsilon_schedule_anneals_linearly_then_stays():
    schedule = dqn.LinearSchedule(1.0, 0.1, 1000)
    assert [schedule(t) for t in (0, 500, 1000, 5000)] == pytest.approx([1.0, 0.55, 0.1, 0.1])
    agent = dqn.DQNAgent(dqn.cartpole_q_network(hidden=(8,)), dqn.DQNConfig(total_steps=1), seed=0)
    obs = np.zeros(4, np.float32)
    greedy = int(np.argmax(agent.q_values(obs[None])[0]))
    assert {agent.act(obs, 0.0) for _ in range(50)} == {greedy}
    assert {agent.act(obs, 1.0) for _ in range(200)} == {0, 1}


def test_td_loss_is_huber_of_the_target_network_q_learning_error():
    buffer = replay_from_maze(256)
    config = dqn.DQNConfig(total_steps=1, gamma=0.9, huber_delta=0.5)
    agent = dqn.DQNAgent(dqn.maze_q_network(), config, seed=0)
    rng = np.random.default_rng(0)  # a target network that differs from the online one
    agent.target.set_weights([w + rng.normal(0, 0.05, w.shape).astype("float32") for w in agent.target.get_weights()])
    obs, actions, rewards, next_obs, terminated = batch = buffer.sample(128)
    target = rewards + 0.9 * (1 - terminated) * agent.target.predict(next_obs, verbose=0).max(-1)
    error = np.abs(target - agent.online.predict(obs, verbose=0)[np.arange(128), actions])
    huber = np.where(error <= 0.5, 0.5 * error ** 2, 0.5 * (error - 0.25)).mean()
    assert terminated.sum() > 0 and error.max() > 0.5 > error.min()  # both branches of the Huber loss are used
    assert agent.loss(batch) == pytest.approx(huber, rel=1e-4)


def test_target_network_is_copied_every_target_update_updates():
    batch = replay_from_maze(128).sample(32)
    agent = dqn.DQNAgent(dqn.maze_q_network(), dqn.DQNConfig(total_steps=1, target_update=3), seed=0)

    def same():
        return all(np.array_equal(t, o) for t, o in zip(agent.target.get_weights(), agent.online.get_weights()))

    assert same()
    frozen = agent.target.get_weights()
    for update in range(1, 7):
        agent.update(batch)
        assert same() == (update % 3 == 0), update
        if update % 3:
            assert all(np.array_equal(a, b) for a, b in zip(agent.target.get_weights(), frozen))
        else:
            frozen = agent.target.get_weights()


def test_q_learning_loss_falls_on_a_fixed_replay_batch():
    batch = replay_from_maze(512).sample(256)
    agent = dqn.DQNAgent(dqn.maze_q_network(), dqn.DQNConfig(total_steps=1, target_update=10_000), seed=0)
    before = agent.loss(batch)
    losses = [agent.update(batch) for _ in range(150)]
    after = agent.loss(batch)
    assert np.all(np.isfinite(losses)) and before > 1e-3
    assert after < 0.1 * before, (before, after)


# --- training and export ------------------------------------------------------------

@pytest.fixture(scope="module")
def quick_run(spec):
    model = spec.build("demo")
    return model, spec.train(model, quick=True, log=lambda *_: None)


def test_quick_training_runs_both_agents(spec, quick_run):
    model, result = quick_run
    metrics = result.metrics
    assert set(spec.metric_keys) | {"cartpole_mean_return", "train_seconds"} <= set(metrics)
    assert 0.0 <= metrics["success_rate"] <= 1.0 and -1.0 <= metrics["mean_return"] <= 1.0
    assert 8 <= metrics["cartpole_mean_return"] <= 500
    assert metrics["maze_steps"] == metrics["cartpole_steps"] == 400
    assert metrics["maze_updates"] == metrics["cartpole_updates"] == len(result.losses) == 301
    assert np.all(np.isfinite(result.losses))
    assert result.curves["maze_episode_return"] and result.curves["cartpole_loss"]
    cartpole = result.extra_models["dqn_cartpole"]
    assert cartpole.input_shape == (None, 4) and cartpole.output_shape == (None, 2)
    assert spec.evaluate(model, quick=True).keys() == {"success_rate", "mean_return"}
    with pytest.raises(ValueError, match="maze Q-network"):
        spec.train(spec.build("paper"), quick=True, log=lambda *_: None)


@pytest.mark.parametrize("which", ["maze", "cartpole"])
def test_q_networks_export_with_tfjs_parity(tmp_path, spec, quick_run, which):
    from exporter.pipeline import export_keras_model

    model, result = quick_run
    model = model if which == "maze" else result.extra_models["dqn_cartpole"]
    meta = export_keras_model(model, tmp_path / which, log=lambda *_: None)
    assert meta["parity"]["max_rel_error"] <= FLOAT32_BOUND
    assert meta["parameter_count"] == model.count_params()
