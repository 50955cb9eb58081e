"""Natural-language understanding parts that run inside the Rasa engine: a
sentence encoder in plain numpy (``bot.nlu.minilm``) and the Rasa component
that turns it into dense sentence features (``bot.nlu.featurizer``)."""
