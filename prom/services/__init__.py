"""Use cases. Each public function is one unit of work and owns its transaction: it commits on
success (with its audit rows) and leaves nothing behind on failure. Views call exactly one."""
