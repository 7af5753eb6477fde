"""Workers: the tree, budgets, status injection, the spawn tool."""
