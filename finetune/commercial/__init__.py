"""The commercial-use model: training data whose terms allow commercial use and redistribution of derived weights."""
