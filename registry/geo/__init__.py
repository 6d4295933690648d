"""School lookup and location endpoints."""
