"""The webnets model zoo: one module per architecture family, registered in `models.zoo`.

    zoo.py        the registry: `models.zoo.build(name, preset="paper"|"demo")`, `get`, `names`
    base.py       ZooModel, the interface each model implements (build, train, evaluate, io_spec)
    alexnet.py, googlenet.py, resnet.py, squeezenet.py   the CNN families (image.py: their shared training)
    recurrent.py  SimpleRNN, LSTM and GRU character language models
    dqn.py        the DQN agents (envs/: the maze; CartPole comes from gymnasium)
    data/         datasets that work offline
    training.py   seeds, tf.distribute strategies, Keras fit with timing

This package never imports `exporter/`: the exporter builds on it.
"""
