"""Finance figures from inventory, orders and agreements. Pure formulas live in formulas.py."""
