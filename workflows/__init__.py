"""The migration procedure as a persisted state machine; knows nothing of Slack, Teams or HTTP."""
