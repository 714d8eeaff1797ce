"""The commands, one module per stage of the procedure (as `workflows.stages` has for the steps): each turns
its words into the service's calls and the results into views; `Conversation` dispatches to them."""
