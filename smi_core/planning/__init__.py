"""Framework-free planning maths: forecasting and inventory policy. Imports nothing from Django."""
