"""The dashboard: the page each person lands on, summing up every domain app for their role."""
