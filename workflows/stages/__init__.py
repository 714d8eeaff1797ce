"""The migration's use cases, one module per stage of Microsoft's procedure.

`unit` is the plumbing every stage runs in; `workflows.service.MigrationService` is the one door the
chat surfaces use. Read the stages in the procedure's order: checking (prerequisites and the plan),
announcing, inviting, removal, approval, connecting, notifying, billing, verification, closing.
"""
