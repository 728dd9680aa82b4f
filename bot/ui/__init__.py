"""What people see: the form, the Block Kit views and every Spanish sentence."""
