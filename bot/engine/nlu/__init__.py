"""Natural-language understanding parts that run inside the Rasa engine: a
sentence encoder in plain numpy (``core.minilm``) and the Rasa component
that turns it into dense sentence features (``bot.engine.nlu.featurizer``)."""
