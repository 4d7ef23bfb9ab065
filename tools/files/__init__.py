"""Files the model may list, read and (with approval) write, confined to the workspace."""
